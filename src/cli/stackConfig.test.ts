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
    [{ 'upstream-speech-models': 'tts-1' }, /--upstream-speech-models needs --upstream/],
    [{ config: path.join(cwd, 'missing.json') }, /cannot read the config file/],
  ])('refuses %o with a clear message', (flags, message) => {
    expect(() => resolveStackConfig(flags, {}, cwd)).toThrow(UsageError);
    expect(() => resolveStackConfig(flags, {}, cwd)).toThrow(message);
  });

  it('refuses to serve the development wallet on a non-loopback host', () => {
    for (const host of ['0.0.0.0', '192.168.1.7', '::']) {
      expect(() => resolveStackConfig({ host }, {}, cwd)).toThrow(
        /would serve the development wallet's private key to the network: bind 127\.0\.0\.1, or pass --dev-wallet false/,
      );
    }
    expect(resolveStackConfig({ host: '0.0.0.0', 'dev-wallet': 'false' }, {}, cwd).devWallet).toBe(false);
    expect(resolveStackConfig({ host: '0.0.0.0' }, { PERDIEM_DEV_WALLET: 'false' }, cwd).devWallet).toBe(false);
    // An external chain has no development wallet to leak.
    expect(resolveStackConfig({ host: '0.0.0.0', rpc: 'http://rpc.example/' }, {}, cwd).devWallet).toBe(true);
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      expect(resolveStackConfig({ host }, {}, cwd).devWallet).toBe(true);
    }
    expect(() => resolveStackConfig({ 'dev-wallet': 'yes' }, {}, cwd)).toThrow(/devWallet.*true or false/);
  });

  it('reads the rate-limit defaults from flags, variables and the file, as positive integers', () => {
    const file = path.join(cwd, 'limits.json');
    writeFileSync(file, JSON.stringify({ rateLimitAccountRpm: 30, rateLimitAccountTpm: 9000, devWallet: false }));
    const config = resolveStackConfig(
      { config: file, 'rate-limit-key-rpm': '7' },
      { PERDIEM_RATE_LIMIT_KEY_TPM: '1234' },
      cwd,
    );
    expect(config).toMatchObject({
      rateLimitKeyRpm: 7,
      rateLimitKeyTpm: 1234,
      rateLimitAccountRpm: 30,
      rateLimitAccountTpm: 9000,
      devWallet: false,
    });
    expect(resolveStackConfig({}, {}, cwd).rateLimitKeyRpm).toBeUndefined();
    for (const bad of ['0', '-1', '1.5', 'many']) {
      expect(() => resolveStackConfig({ 'rate-limit-key-rpm': bad }, {}, cwd)).toThrow(
        /bad rateLimitKeyRpm \(--rate-limit-key-rpm, PERDIEM_RATE_LIMIT_KEY_RPM\)/,
      );
    }
  });

  it('reads the speech models from the flag, the variable and the file, as lists', () => {
    const file = path.join(cwd, 'speech.json');
    writeFileSync(file, JSON.stringify({ upstream: ['http://a/v1'], upstreamSpeechModels: ['tts-file'] }));
    expect(resolveStackConfig({ config: file }, {}, cwd).upstreamSpeechModels).toEqual(['tts-file']);
    const fromEnv = resolveStackConfig({ config: file }, { PERDIEM_UPSTREAM_SPEECH_MODELS: 'tts-1, tts-1-hd' }, cwd);
    expect(fromEnv.upstreamSpeechModels).toEqual(['tts-1', 'tts-1-hd']);
    const fromFlag = resolveStackConfig(
      { config: file, 'upstream-speech-models': 'gpt-4o-mini-tts' },
      { PERDIEM_UPSTREAM_SPEECH_MODELS: 'tts-1' },
      cwd,
    );
    expect(fromFlag.upstreamSpeechModels).toEqual(['gpt-4o-mini-tts']);
    expect(resolveStackConfig({}, {}, cwd).upstreamSpeechModels).toBeUndefined();
    expect(() => resolveStackConfig({}, { PERDIEM_UPSTREAM_SPEECH_MODELS: 'tts-1' }, cwd)).toThrow(
      /--upstream-speech-models needs --upstream/,
    );
  });

  it('refuses an unknown key in the config file', () => {
    const file = path.join(cwd, 'unknown.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(() => resolveStackConfig({ config: file }, {}, cwd)).toThrow(/config/);
  });

  it('refuses unanchored price sheets by default; --unanchored-prices or PERDIEM_UNANCHORED_PRICES downgrades to warn', () => {
    expect(resolveStackConfig({}, {}, cwd).unanchoredPrices).toBe('refuse');
    expect(resolveStackConfig({ 'unanchored-prices': 'warn' }, {}, cwd).unanchoredPrices).toBe('warn');
    expect(resolveStackConfig({}, { PERDIEM_UNANCHORED_PRICES: 'warn' }, cwd).unanchoredPrices).toBe('warn');
    expect(() => resolveStackConfig({ 'unanchored-prices': 'ignore' }, {}, cwd)).toThrow(/unanchoredPrices/);
  });
});

describe('perdiem up prices', () => {
  it('prices text models per token and image models per image', async () => {
    const { priceBookFor } = await import('./stack/operatorSettings.ts');
    const sheet = priceBookFor(['chat-model'], ['image-model']).versions[0]!;
    expect(sheet.models['chat-model']?.kind).toBe('text');
    expect(sheet.models['image-model']).toEqual({ kind: 'image', perImage: 40_000_000n });
  });

  it('prices speech models at $15 per 1M characters', async () => {
    const { priceBookFor } = await import('./stack/operatorSettings.ts');
    const sheet = priceBookFor(['chat-model'], ['image-model'], ['speech-model']).versions[0]!;
    expect(Object.keys(sheet.models)).toEqual(['chat-model', 'image-model', 'speech-model']);
    expect(sheet.models['speech-model']).toEqual({ kind: 'speech', per1MCharacters: 15_000_000_000n });
  });
});

describe('perdiem up upstream listings', () => {
  it('takes the context length from Venice, OpenRouter or vLLM fields, and none when absent', async () => {
    const { upstreamModelOf } = await import('./stack/inference.ts');
    expect(upstreamModelOf({ id: 'v', model_spec: { availableContextTokens: 131072 } })).toEqual({
      id: 'v',
      contextLength: 131072,
    });
    expect(upstreamModelOf({ id: 'o', context_length: 8192 })).toEqual({ id: 'o', contextLength: 8192 });
    expect(upstreamModelOf({ id: 'l', max_model_len: 4096 })).toEqual({ id: 'l', contextLength: 4096 });
    expect(upstreamModelOf({ id: 'x', context_length: 'big' })).toEqual({ id: 'x' });
  });

  it('serves speech models with the speech capability, and keeps them out of the text models', async () => {
    const { inference } = await import('./stack/inference.ts');
    const config = resolveStackConfig(
      { upstream: 'http://a/v1', 'upstream-models': 'chat, tts-1', 'upstream-speech-models': 'tts-1' },
      {},
      cwd,
    );
    const served = await inference(config, () => {});
    expect(served).toMatchObject({ models: ['chat'], imageModels: [], speechModels: ['tts-1'] });
    expect(served.providers[0]).toMatchObject({
      kind: 'openai',
      models: [{ id: 'chat' }, { id: 'tts-1', capabilities: ['speech'] }],
    });
  });
});
