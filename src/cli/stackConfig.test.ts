import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './command.ts';
import { resolveStackConfig } from './stackConfig.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-config-'));

describe('perdiem up configuration', () => {
  it('uses the embedded defaults with nothing set', () => {
    const config = resolveStackConfig({}, {}, cwd);
    expect(config).toMatchObject({ port: 8787, chainPort: 8545, allocation: 'diem', confirmations: 0 });
    expect(config.home).toBe(path.join(cwd, '.perdiem'));
    expect(config.rpc).toBeUndefined();
  });

  it('lets flags beat the environment, and the environment beat the config file', () => {
    const file = path.join(cwd, 'custom.json');
    writeFileSync(file, JSON.stringify({ port: 1111, chainPort: 2222, confirmations: 3, upstream: ['http://a/v1'] }));
    const config = resolveStackConfig(
      { config: file, port: '3333' },
      { PERDIEM_PORT: '4444', PERDIEM_CHAIN_PORT: '5555', PERDIEM_UPSTREAM: 'http://b/v1, http://c/v1' },
      cwd,
    );
    expect(config.port).toBe(3333);
    expect(config.chainPort).toBe(5555);
    expect(config.confirmations).toBe(3);
    expect(config.upstream).toEqual(['http://b/v1', 'http://c/v1']);
  });

  it.each([
    [{ port: '70000' }, /port/],
    [{ 'database-url': 'mysql://x' }, /databaseUrl.*postgres/],
    [{ 'operator-key': '0x12' }, /operatorKey/],
    [{ contracts: 'c.json' }, /--contracts needs --rpc/],
    [{ allocation: 'legacy' }, /legacy-daily-capacity-usd/],
    [{ model: 'a.gguf', upstream: 'http://x/v1' }, /either --model or --upstream/],
    [{ 'upstream-image-models': 'dall-e-3' }, /--upstream-image-models needs --upstream/],
    [{ config: path.join(cwd, 'missing.json') }, /cannot read the config file/],
  ])('refuses %o with a clear message', (flags, message) => {
    expect(() => resolveStackConfig(flags, {}, cwd)).toThrow(UsageError);
    expect(() => resolveStackConfig(flags, {}, cwd)).toThrow(message);
  });

  it('refuses an unknown key in the config file', () => {
    const file = path.join(cwd, 'unknown.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(() => resolveStackConfig({ config: file }, {}, cwd)).toThrow(/config/);
  });
});

describe('perdiem up prices', () => {
  it('prices text models per token and image models per image', async () => {
    const { priceBookFor } = await import('./localStack.ts');
    const sheet = priceBookFor(['chat-model'], ['image-model']).versions[0]!;
    expect(sheet.models['chat-model']?.kind).toBe('text');
    expect(sheet.models['image-model']).toEqual({ kind: 'image', perImage: 40_000_000n });
  });
});
