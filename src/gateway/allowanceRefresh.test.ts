/** The chain hooks of the gateway: one allowance re-read before a 402, and extra dependencies in /healthz. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epochAt } from '../core/epoch.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../ledger/types.ts';
import { createGateway, type GatewayOptions, gatewayLogger } from './app.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from './testing/fakeRegistry.ts';

const nowMs = Date.UTC(2026, 10, 23, 12);
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function gateway(options: Partial<GatewayOptions>) {
  const directory = await mkdtemp(join(tmpdir(), 'perdiem-refresh-'));
  const ledger: Ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: () => nowMs });
  cleanup = async () => {
    await ledger.close();
    await rm(directory, { recursive: true, force: true });
  };
  const account = await ledger.createAccount();
  const { secret } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 't' });
  const app = createGateway({
    ledger,
    registry: fakeRegistry(),
    prices: fakePriceBook,
    clock: () => nowMs,
    logger: gatewayLogger('silent'),
    ...options,
  });
  const chat = () =>
    app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    });
  return { app, ledger, accountId: account.id, chat };
}

describe('allowance refresh before a 402', () => {
  it('re-reads the allowance once and serves the request when a new stake covers it', async () => {
    const calls: string[] = [];
    const setup = await gateway({
      refreshAllowance: async (accountId) => {
        calls.push(accountId);
        await setup.ledger.setDiemAllowance(accountId, epochAt(nowMs), 5_000_000_000n);
        return true;
      },
    });
    const response = await setup.chat();
    expect(response.status).toBe(200);
    expect(calls).toEqual([setup.accountId]);
    expect((await setup.ledger.balance(setup.accountId)).diem.spentNano).toBeGreaterThan(0n);
  });

  it('answers 402 and changes nothing when the re-read finds nothing new', async () => {
    let calls = 0;
    const setup = await gateway({
      refreshAllowance: async () => {
        calls++;
        return false;
      },
    });
    const response = await setup.chat();
    expect(response.status).toBe(402);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('insufficient_balance');
    expect(calls).toBe(1);
    const balance = await setup.ledger.balance(setup.accountId);
    expect(balance.diem.reservedNano + balance.diem.spentNano).toBe(0n);
  });
});

describe('/healthz with extra dependencies', () => {
  it('reports a failing dependency with ok false, and still answers', async () => {
    const setup = await gateway({ health: () => ({ chain: { ok: false, lastError: 'fetch failed' } }) });
    const response = await setup.app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: false, chain: { ok: false, lastError: 'fetch failed' } });
  });
});
