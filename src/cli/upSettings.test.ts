/**
 * The operator's settings of `perdiem up`, through a real `up` process: rate-limit defaults from a flag, a variable
 * and the config file each show in the rate-limit headers of a chat request with the demo key; the development
 * wallet reaches the dashboard unless `devWallet` is false; the banner names the ADMIN key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { readStackState, type StackState } from './stateFile.ts';
import { captureIo } from './testing/captureIo.ts';
import { failedUp, startUpProcess, stopUpProcess, type UpProcessOptions } from './testing/upProcess.ts';
import { summary } from './up.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-settings-'));

afterAll(() => rmSync(home, { recursive: true, force: true }));

async function chatLimits(state: StackState): Promise<{ requests: string | null; tokens: string | null }> {
  const response = await fetch(`${state.gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${state.demo!.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: state.models[0], messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 }),
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return {
    requests: response.headers.get('x-ratelimit-limit-requests'),
    tokens: response.headers.get('x-ratelimit-limit-tokens'),
  };
}

async function devWalletServed(state: StackState): Promise<boolean> {
  const config = (await (await fetch(`${state.gatewayUrl}/dashboard/config.json`)).json()) as { devWallet: unknown };
  return config.devWallet !== null;
}

/** Starts `up` on the shared home, reads state.json as a script would, runs `check`, and stops it. */
async function withUp(options: UpProcessOptions, check: (state: StackState) => Promise<void>): Promise<void> {
  const running = await startUpProcess(home, options);
  try {
    await check(readStackState(home)!);
  } finally {
    expect(await stopUpProcess(running)).toBe(0);
  }
}

describe('perdiem up settings', { timeout: 300_000 }, () => {
  it('takes the rate-limit defaults from a flag, a variable and the config file', async () => {
    // The headers report the tighter of the key's and the account's buckets: each run sets the tighter one.
    await withUp({ args: ['--rate-limit-key-rpm', '7', '--rate-limit-key-tpm', '5000'] }, async (state) => {
      expect(await chatLimits(state)).toEqual({ requests: '7', tokens: '5000' });
      expect(await devWalletServed(state)).toBe(true);

      // The demo model's context (512 tokens, from its GGUF header) in /v1/models and in `perdiem models`.
      const listed = await fetch(`${state.gatewayUrl}/v1/models`, {
        headers: { authorization: `Bearer ${state.demo!.apiKey}` },
      });
      const { data } = (await listed.json()) as { data: { id: string; model_spec: Record<string, unknown> }[] };
      expect(data.find((model) => model.id === 'perdiem-demo')?.model_spec.availableContextTokens).toBe(512);
      const captured = captureIo(home);
      expect(await main(['models', '--home', home], captured.io)).toBe(0);
      expect(captured.stdout()).toMatch(/^perdiem-demo\s+text\s+512\s+\$0\.2\s+\$0\.8\s+per 1M tokens$/m);
    });
    await withUp(
      { env: { PERDIEM_RATE_LIMIT_ACCOUNT_RPM: '9', PERDIEM_RATE_LIMIT_ACCOUNT_TPM: '6000' } },
      async (state) => {
        expect(await chatLimits(state)).toEqual({ requests: '9', tokens: '6000' });
      },
    );
    const file = path.join(home, 'perdiem.config.json');
    writeFileSync(file, JSON.stringify({ rateLimitKeyRpm: 11, rateLimitAccountTpm: 7000, devWallet: false }));
    await withUp({ args: ['--config', file] }, async (state) => {
      expect(await chatLimits(state)).toEqual({ requests: '11', tokens: '7000' });
      expect(await devWalletServed(state)).toBe(false);
    });
  });

  it('refuses a non-loopback host while the development wallet is enabled', async () => {
    const refused = await failedUp(path.join(home, 'exposed'), { args: ['--host', '0.0.0.0'] });
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('bind 127.0.0.1, or pass --dev-wallet false');
  });

  it('shows the ADMIN key in the banner, labelled as the one that manages keys', () => {
    const state = {
      gatewayUrl: 'http://127.0.0.1:8787',
      rpcUrl: 'http://127.0.0.1:8545',
      chainId: 31337,
      contracts: { vvv: '0x1', stakedVvv: '0x2', diem: '0x3', diemStaking: '0x4' },
      models: ['perdiem-demo'],
      demo: { address: '0xabc', privateKey: '0x1', apiKey: 'pd-inference', adminKey: 'pd-admin', accountId: 'a' },
      operatorToken: 'op',
    } as unknown as StackState;
    const text = summary(state, '/home/.perdiem');
    expect(text).toMatch(/API key +pd-inference +\(INFERENCE/);
    expect(text).toMatch(/ADMIN key +pd-admin +\(ADMIN: creates and revokes keys/);
  });
});
