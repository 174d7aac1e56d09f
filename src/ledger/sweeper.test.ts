import { describe, expect, it } from 'vitest';
import { startSweeper } from './sweeper.ts';
import { fakeClock } from './testing/fakeClock.ts';
import { sqliteHarness } from './testing/harness.ts';
import type { Ledger } from './types.ts';

describe('sweeper', () => {
  it('expires every due reservation across batches and leaves live ones alone', async () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1));
    const ledger = await sqliteHarness.open(clock.now);
    const account = await ledger.createAccount();
    await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: 1_000n, reference: 'f' });
    for (let i = 0; i < 25; i++) {
      await ledger.reserve({
        accountId: account.id,
        keyId: null,
        idempotencyKey: `a${i}`,
        model: 'm',
        amountNano: 10n,
        ttlMs: 1_000,
      });
    }
    await ledger.reserve({
      accountId: account.id,
      keyId: null,
      idempotencyKey: 'late',
      model: 'm',
      amountNano: 10n,
      ttlMs: 60_000,
    });
    const errors: unknown[] = [];
    const sweeper = startSweeper({ ledger, intervalMs: 60_000, batchSize: 10, onError: (e) => errors.push(e) });
    clock.advance(1_000);
    expect(await sweeper.runOnce()).toBe(25);
    expect(await sweeper.runOnce()).toBe(0);
    expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: 990n, reservedNano: 10n });
    await sweeper.stop();
    expect(errors).toEqual([]);
    await ledger.close();
  });

  it('runs on its timer and reports failures instead of throwing', async () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1));
    const ledger = await sqliteHarness.open(clock.now);
    await ledger.close(); // every sweep now fails
    const errors: unknown[] = [];
    const sweeper = startSweeper({ ledger, intervalMs: 5, onError: (e) => errors.push(e) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sweeper.stop();
    expect(errors.length).toBeGreaterThan(0);
  });

  it("keeps a live instance's holds past their TTL while a dead instance's expire, swept by the live one", async () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1));
    const [live, dead] = await sqliteHarness.openPeers(clock.now, ['live', 'dead']);
    const errors: unknown[] = [];
    const sweeper = startSweeper({
      ledger: live!,
      intervalMs: 60_000,
      holdTtlMs: 1_000,
      onError: (e) => errors.push(e),
    });
    try {
      const account = await live!.createAccount();
      await live!.addFunds({ accountId: account.id, source: 'USD', amountNano: 1_000n, reference: 'f' });
      const hold = async (ledger: Ledger, idempotencyKey: string) =>
        (
          await ledger.reserve({
            accountId: account.id,
            keyId: null,
            idempotencyKey,
            model: 'm',
            amountNano: 10n,
            ttlMs: 1_000,
          })
        ).reservation;
      const mine = await hold(live!, 'live-request');
      const theirs = await hold(dead!, 'dead-request');
      // The dead instance runs no sweeper; the live one passes well within each TTL.
      for (let pass = 0; pass < 5; pass++) {
        clock.advance(600);
        await sweeper.runOnce();
      }
      expect((await live!.getReservation(mine.id))?.status).toBe('RESERVED');
      expect((await live!.getReservation(theirs.id))?.status).toBe('EXPIRED');
      expect((await live!.balance(account.id)).usd).toEqual({ availableNano: 990n, reservedNano: 10n });
      // Once its sweeper stops, the live instance's hold lapses one TTL after the last pass, like the dead one's.
      clock.advance(1_000);
      expect(await live!.expireReservations()).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await sweeper.stop();
      await live!.close();
      await dead!.close();
    }
  });
});
