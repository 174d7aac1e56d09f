/**
 * The allowances, fundings and balances every Ledger adapter must show (FundingLedger). `describeLedgerConformance`
 * (../conformance.ts) runs it once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt, epochStartMs } from '../../core/epoch.ts';
import {
  expectBalancedJournal,
  expectError,
  fundedAccountOn,
  line,
  randomWallet,
  reserveOn,
  start,
  usd,
} from '../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { Ledger, ReserveInput } from '../types.ts';

export function describeFundingConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: funding`, () => {
    let clock: FakeClock;
    let ledger: Ledger;

    beforeEach(async () => {
      clock = fakeClock(start);
      ledger = await harness.open(clock.now);
    });
    afterEach(async () => {
      await ledger.close();
    });

    const fundedAccount = (funds: { diem?: bigint; credits?: bigint; usd?: bigint } = {}) =>
      fundedAccountOn(ledger, clock, funds);
    const reserve = (accountId: string, amountNano: bigint, extra: Partial<ReserveInput> = {}) =>
      reserveOn(ledger, accountId, amountNano, extra);

    it('credits a funding reference once and journals it', async () => {
      const account = await ledger.createAccount();
      const funding = { accountId: account.id, source: 'USD' as const, amountNano: usd(5), reference: 'x402:abc' };
      expect(await ledger.addFunds(funding)).toBe(true);
      expect(await ledger.addFunds(funding)).toBe(false);
      expect((await ledger.balance(account.id)).usd.availableNano).toBe(usd(5));
      const journal = await ledger.journal();
      expect(journal.filter((e) => e.kind === 'FUNDING')).toHaveLength(2);
      expectBalancedJournal(journal);
    });

    it('honours a mid-epoch rise of the DIEM allowance at once', async () => {
      const account = await fundedAccount({ diem: usd(1) });
      await reserve(account.id, usd(1));
      await expectError(reserve(account.id, usd(1)), 402, 'insufficient_balance');
      await ledger.setDiemAllowance(account.id, epochAt(clock.now()), usd(3));
      expect((await reserve(account.id, usd(2))).reservation.source).toBe('DIEM');
      expect((await ledger.balance(account.id)).diem).toEqual({
        allowanceNano: usd(3),
        spentNano: 0n,
        reservedNano: usd(3),
        availableNano: 0n,
      });
      expectBalancedJournal(await ledger.journal());
    });

    it('refreshes DIEM per epoch, and settles a reservation against the epoch it was made in', async () => {
      const account = await fundedAccount({ diem: usd(1) });
      const { reservation } = await reserve(account.id, usd(1));
      clock.set(epochStartMs(epochAt(start) + 1) + 1);
      await expectError(reserve(account.id, 1n), 402, 'insufficient_balance');
      await ledger.setDiemAllowance(account.id, epochAt(clock.now()), usd(1));
      expect((await ledger.balance(account.id)).diem.availableNano).toBe(usd(1));
      await ledger.settle({ reservationId: reservation.id, lines: [line(usd(0.5))], latencyMs: null });
      expect((await ledger.balance(account.id)).diem).toMatchObject({ availableNano: usd(1), spentNano: 0n });
      const journal = await ledger.journal();
      const charge = journal.find((e) => e.kind === 'CHARGE' && e.side === 'DEBIT');
      expect(charge?.ledgerAccount).toBe(`account:${account.id}:diem:${epochAt(start)}`);
    });

    it('lists the fundings of an account newest first, by source', async () => {
      const account = await ledger.createAccount();
      await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: usd(5), reference: `${account.id}-a` });
      clock.advance(1_000);
      await ledger.addFunds({
        accountId: account.id,
        source: 'CREDITS',
        amountNano: usd(1),
        reference: `${account.id}-b`,
      });
      clock.advance(1_000);
      await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: usd(2), reference: `${account.id}-c` });
      const all = await ledger.fundings({ accountId: account.id });
      expect(all.map((funding) => [funding.reference, funding.source, funding.amountNano])).toEqual([
        [`${account.id}-c`, 'USD', usd(2)],
        [`${account.id}-b`, 'CREDITS', usd(1)],
        [`${account.id}-a`, 'USD', usd(5)],
      ]);
      const usdOnly = await ledger.fundings({ accountId: account.id, source: 'USD', limit: 1 });
      expect(usdOnly.map((funding) => funding.reference)).toEqual([`${account.id}-c`]);
    });

    describe('legacy allowance snapshot block per epoch', () => {
      it('keeps the first claimed block of an epoch; later claims get it back', async () => {
        expect(await ledger.allowanceSnapshotBlock(100)).toBeNull();
        expect(await ledger.claimAllowanceSnapshotBlock(100, 7n)).toBe(7n);
        expect(await ledger.claimAllowanceSnapshotBlock(100, 9n)).toBe(7n);
        expect(await ledger.claimAllowanceSnapshotBlock(100, 3n)).toBe(7n);
        expect(await ledger.allowanceSnapshotBlock(100)).toBe(7n);
        // Each epoch has its own; blocks past 2^53 survive.
        const farBlock = 2n ** 60n + 1n;
        expect(await ledger.claimAllowanceSnapshotBlock(101, farBlock)).toBe(farBlock);
        expect(await ledger.allowanceSnapshotBlock(101)).toBe(farBlock);
        expect(await ledger.allowanceSnapshotBlock(99)).toBeNull();
        await expect(ledger.claimAllowanceSnapshotBlock(102, -1n)).rejects.toThrow(RangeError);
        await expect(ledger.claimAllowanceSnapshotBlock(-1, 1n)).rejects.toThrow(RangeError);
        expect(await ledger.allowanceSnapshotBlock(102)).toBeNull();
      });

      it('lets one claim win under concurrent claims from several instances, and every instance reads it', async () => {
        const peers = await harness.openPeers(clock.now, ['feed-a', 'feed-b', 'feed-c']);
        try {
          const claims = peers.flatMap((peer, p) =>
            Array.from({ length: 8 }, (_, i) => peer.claimAllowanceSnapshotBlock(500, BigInt(1_000 + p * 10 + i))),
          );
          const results = await Promise.all(claims);
          const winner = results[0]!;
          expect(results.every((block) => block === winner)).toBe(true);
          expect(winner >= 1_000n && winner < 1_030n).toBe(true);
          for (const peer of peers) expect(await peer.allowanceSnapshotBlock(500)).toBe(winner);
        } finally {
          for (const peer of peers) await peer.close();
        }
      });
    });

    it("sums an account's DIEM allowance over its wallets; one wallet's lowering lowers the sum", async () => {
      const account = await ledger.createAccount();
      const [w1, w2] = [randomWallet(), randomWallet()];
      await ledger.linkWallet(account.id, w1);
      await ledger.linkWallet(account.id, w2);
      const epoch = epochAt(clock.now());
      const allowance = async () => (await ledger.balance(account.id)).diem.allowanceNano;
      await Promise.all([ledger.setWalletAllowance(w1, epoch, usd(3)), ledger.setWalletAllowance(w2, epoch, usd(2))]);
      expect(await allowance()).toBe(usd(5));
      await ledger.setWalletAllowance(w2, epoch + 1, usd(9));
      expect(await allowance()).toBe(usd(5));
      expect((await reserve(account.id, usd(4))).reservation.source).toBe('DIEM');

      // w2 lowered to 0: the account keeps w1's $3, of which the $4 held leaves nothing.
      await ledger.setWalletAllowance(w2.toUpperCase().replace('0X', '0x'), epoch, 0n);
      expect((await ledger.balance(account.id)).diem).toEqual({
        allowanceNano: usd(3),
        spentNano: 0n,
        reservedNano: usd(4),
        availableNano: 0n,
      });

      // The direct part (an operator's grant) adds to the wallets' sum; each setter replaces only its own part.
      await ledger.setDiemAllowance(account.id, epoch, usd(10));
      expect(await allowance()).toBe(usd(13));
      await ledger.setWalletAllowance(w1, epoch, usd(3));
      await ledger.setWalletAllowance(w1, epoch, usd(1));
      expect(await allowance()).toBe(usd(11));
      await ledger.setDiemAllowance(account.id, epoch, 0n);
      expect(await allowance()).toBe(usd(1));

      // The journal's ALLOWANCE legs on the account's DIEM ledger account add up to its allowance.
      const journal = await ledger.journal({ limit: 1000 });
      expectBalancedJournal(journal);
      const own = `account:${account.id}:diem:${epoch}`;
      const net = journal
        .filter((entry) => entry.kind === 'ALLOWANCE' && entry.ledgerAccount === own)
        .reduce((sum, entry) => sum + (entry.side === 'CREDIT' ? entry.amountNano : -entry.amountNano), 0n);
      expect(net).toBe(usd(1));
    });

    it('counts a wallet for the one account it is linked to, and for no account while unlinked', async () => {
      const a = await ledger.createAccount();
      const b = await ledger.createAccount();
      const [mine, theirs] = [randomWallet(), randomWallet()];
      await ledger.linkWallet(a.id, mine);
      await ledger.linkWallet(b.id, theirs);
      const epoch = epochAt(clock.now());
      await ledger.setWalletAllowance(mine, epoch, usd(1));
      await ledger.setWalletAllowance(theirs, epoch, usd(7));
      await expectError(ledger.linkWallet(a.id, theirs), 409, 'wallet_linked');
      expect((await ledger.balance(a.id)).diem.allowanceNano).toBe(usd(1));
      expect((await ledger.balance(b.id)).diem.allowanceNano).toBe(usd(7));

      const unlinked = randomWallet();
      await expectError(ledger.setWalletAllowance(unlinked, epoch, usd(1)), 404, 'wallet_not_found', 'address');
      await expectError(ledger.setWalletAllowance('0x12', epoch, usd(1)), 400, 'invalid_request');
      await expect(ledger.setWalletAllowance(mine, epoch, -1n)).rejects.toThrow(RangeError);
      // Linked later, the wallet starts from nothing: the refused write left no row behind.
      await ledger.linkWallet(a.id, unlinked);
      await ledger.setWalletAllowance(mine, epoch, usd(1));
      expect((await ledger.balance(a.id)).diem.allowanceNano).toBe(usd(1));
    });
  });
}
