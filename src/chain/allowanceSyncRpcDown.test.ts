/** With the RPC gone, the ledger keeps the allowance it was given and the sync says it is failing. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { startAllowanceSync } from './allowanceSync.ts';
import { setUpDemoWallet } from './demo.ts';
import { startTestChain } from './testChain.ts';

const directory = await mkdtemp(join(tmpdir(), 'perdiem-rpc-down-'));
afterAll(() => rm(directory, { recursive: true, force: true }));

it('serves on from the cached allowance when the RPC goes down, and reports it', async () => {
  const chain = await startTestChain();
  const ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
  const demo = await setUpDemoWallet(chain.deployer, chain.client, chain.contracts);
  const account = await ledger.createAccount();
  await ledger.linkWallet(account.id, demo.address);
  const errors: unknown[] = [];
  const sync = startAllowanceSync(
    { ledger, client: chain.client, contracts: chain.contracts, clock: Date.now, epochSeconds: 86_400 },
    [{ accountId: account.id, address: demo.address }],
    { intervalMs: 60_000, onError: (error) => errors.push(error) },
  );
  try {
    await sync.ready;
    expect(sync.status()).toMatchObject({ ok: true, lastError: null });
    const allowance = (await ledger.balance(account.id)).diem.allowanceNano;
    expect(allowance).toBe(100_000_000_000n);

    await chain.stop();
    await expect(sync.syncNow()).rejects.toThrow();
    expect(sync.status().ok).toBe(false);
    expect(sync.status().lastError).toBeTruthy();
    expect(await sync.refresh(account.id)).toBe(false);
    expect((await ledger.balance(account.id)).diem.allowanceNano).toBe(allowance);
  } finally {
    sync.stop();
    await ledger.close();
    await chain.stop();
  }
});
