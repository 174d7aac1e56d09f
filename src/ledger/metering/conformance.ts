/**
 * The two-phase metering every Ledger adapter must show (MeteringLedger): reserve, settle, void and expire, key
 * limits, recovery and idempotency, and the budget tree (conformance/budgetTree.ts). `describeLedgerConformance` (../conformance.ts) runs it once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import type { PerdiemError } from '../../core/errors.ts';
import { nanoPerUsd } from '../../core/money.ts';
import {
  day,
  expectBalancedJournal,
  expectError,
  fundedAccountOn,
  line,
  reserveOn,
  start,
  usd,
} from '../conformanceHelpers.ts';
import { ledgerLimits } from '../limits.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { KeyLimit, Ledger, ReserveInput } from '../types.ts';
import { describeBudgetConformance } from './conformance/budgetTree.ts';

export function describeMeteringConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: metering`, () => {
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

    it('spends DIEM, then credits, then USD, one source per request', async () => {
      const account = await fundedAccount({ diem: usd(1), credits: usd(2), usd: usd(3) });
      expect((await reserve(account.id, usd(1))).reservation.source).toBe('DIEM');
      expect((await reserve(account.id, usd(1.5))).reservation.source).toBe('CREDITS');
      expect((await reserve(account.id, usd(1))).reservation.source).toBe('USD');
      expect((await reserve(account.id, usd(0.5))).reservation.source).toBe('CREDITS');
      // $2 left across sources ($0 + $0 + $2): covered by USD alone.
      expect((await reserve(account.id, usd(2))).reservation.source).toBe('USD');
      await expectError(reserve(account.id, 1n), 402, 'insufficient_balance');
    });

    it('refuses a request no single source covers, even when the sources together would', async () => {
      const account = await fundedAccount({ diem: usd(1), credits: usd(1), usd: usd(1) });
      await expectError(reserve(account.id, usd(1.5)), 402, 'insufficient_balance');
      const balance = await ledger.balance(account.id);
      expect(balance.usd.reservedNano + balance.credits.reservedNano + balance.diem.reservedNano).toBe(0n);
    });

    it('settles the actual cost, releases the rest and records usage and a balanced journal', async () => {
      const account = await fundedAccount({ credits: usd(10) });
      const { reservation } = await reserve(account.id, usd(2));
      expect((await ledger.balance(account.id)).credits).toEqual({ availableNano: usd(8), reservedNano: usd(2) });
      const settled = await ledger.settle({
        reservationId: reservation.id,
        lines: [line(usd(0.25), 'text.input'), line(usd(0.5))],
        latencyMs: 42,
      });
      expect(settled).toMatchObject({
        replayed: false,
        reservation: { status: 'SETTLED', chargedNano: usd(0.75), lossNano: 0n },
      });
      expect((await ledger.balance(account.id)).credits).toEqual({ availableNano: usd(9.25), reservedNano: 0n });
      const { items } = await ledger.usageHistory({ accountId: account.id });
      expect(items.map((u) => [u.sku, u.amountNano, u.currency, u.source, u.latencyMs, u.requestId])).toEqual([
        ['text.output', usd(0.5), 'USD', 'CREDITS', 42, reservation.idempotencyKey],
        ['text.input', usd(0.25), 'USD', 'CREDITS', 42, reservation.idempotencyKey],
      ]);
      const journal = await ledger.journal();
      expectBalancedJournal(journal);
      const charge = journal.filter((e) => e.kind === 'CHARGE');
      expect(charge.map((e) => [e.side, e.ledgerAccount, e.amountNano])).toEqual([
        ['DEBIT', `account:${account.id}:credits`, usd(0.75)],
        ['CREDIT', 'operator:revenue', usd(0.75)],
      ]);
    });

    it('caps a settle above the reservation and records the excess as operator loss', async () => {
      const account = await fundedAccount({ usd: usd(10) });
      const { reservation } = await reserve(account.id, usd(1));
      const settled = await ledger.settle({
        reservationId: reservation.id,
        lines: [line(usd(0.75)), line(usd(0.5))],
        latencyMs: null,
      });
      expect(settled.reservation).toMatchObject({ chargedNano: usd(1), lossNano: usd(0.25) });
      expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(9), reservedNano: 0n });
      const { items } = await ledger.usageHistory({ accountId: account.id });
      expect(items.map((u) => [u.listAmountNano, u.amountNano])).toEqual([
        [usd(0.5), usd(0.25)],
        [usd(0.75), usd(0.75)],
      ]);
      const journal = await ledger.journal();
      expectBalancedJournal(journal);
      expect(journal.filter((e) => e.kind === 'LOSS').map((e) => [e.side, e.ledgerAccount, e.amountNano])).toEqual([
        ['DEBIT', 'operator:loss', usd(0.25)],
        ['CREDIT', 'operator:revenue', usd(0.25)],
      ]);
    });

    it('settles once: the same cost replays, another cost conflicts, and void after settle conflicts', async () => {
      const account = await fundedAccount({ usd: usd(10) });
      const { reservation } = await reserve(account.id, usd(1));
      await ledger.settle({ reservationId: reservation.id, lines: [line(usd(0.5))], latencyMs: 1 });
      const again = await ledger.settle({ reservationId: reservation.id, lines: [line(usd(0.5))], latencyMs: 1 });
      expect(again.replayed).toBe(true);
      await expectError(
        ledger.settle({ reservationId: reservation.id, lines: [line(usd(0.6))], latencyMs: 1 }),
        409,
        'already_settled',
      );
      await expectError(ledger.void(reservation.id), 409, 'already_settled');
      expect((await ledger.balance(account.id)).usd.availableNano).toBe(usd(9.5));
      expect((await ledger.usageHistory({ accountId: account.id })).items).toHaveLength(1);
      await expectError(
        ledger.settle({ reservationId: 'missing', lines: [], latencyMs: null }),
        404,
        'reservation_not_found',
      );
    });

    it('voids without charging, idempotently, and refuses to settle a voided reservation', async () => {
      const account = await fundedAccount({ diem: usd(1) });
      const { reservation } = await reserve(account.id, usd(1));
      expect((await ledger.void(reservation.id)).status).toBe('VOIDED');
      expect((await ledger.void(reservation.id)).status).toBe('VOIDED');
      await expectError(
        ledger.settle({ reservationId: reservation.id, lines: [line(1n)], latencyMs: null }),
        409,
        'reservation_not_active',
      );
      expect((await ledger.balance(account.id)).diem).toMatchObject({
        availableNano: usd(1),
        reservedNano: 0n,
        spentNano: 0n,
      });
    });

    it('voids with operator loss: lines at list price charged 0, a balanced LOSS pair, the hold released', async () => {
      const account = await fundedAccount({ credits: usd(5) });
      const { reservation } = await reserve(account.id, usd(1), { keyId: null, model: 'lossy' });
      const loss = { lines: [line(usd(0.3), 'text.input'), line(usd(0.02), 'text.cache_read')], latencyMs: 7 };
      const voided = await ledger.void(reservation.id, loss);
      expect(voided).toMatchObject({ status: 'VOIDED', chargedNano: 0n, lossNano: usd(0.32) });
      expect(await ledger.getReservation(reservation.id)).toMatchObject({ chargedNano: 0n, lossNano: usd(0.32) });
      expect((await ledger.balance(account.id)).credits).toEqual({ availableNano: usd(5), reservedNano: 0n });
      const { items } = await ledger.usageHistory({ accountId: account.id });
      expect(items.map((u) => [u.sku, u.listAmountNano, u.amountNano, u.latencyMs]).sort()).toEqual([
        ['text.cache_read', usd(0.02), 0n, 7],
        ['text.input', usd(0.3), 0n, 7],
      ]);
      const journal = await ledger.journal();
      expectBalancedJournal(journal);
      const lossEntries = journal.filter((e) => e.reservationId === reservation.id);
      expect(lossEntries.map((e) => [e.kind, e.side, e.ledgerAccount, e.amountNano])).toEqual([
        ['LOSS', 'DEBIT', 'operator:loss', usd(0.32)],
        ['LOSS', 'CREDIT', 'operator:revenue', usd(0.32)],
      ]);
      const analytics = await ledger.usageAnalytics({ accountId: account.id, fromMs: start - day, toMs: start + day });
      expect(analytics.byModel.map((r) => [r.group, r.amountNano, r.lossNano, r.requests])).toEqual([
        ['lossy', 0n, usd(0.32), 1],
      ]);
      // Idempotent: voiding again records nothing more; a settle after it is refused; the key is free again.
      expect(await ledger.void(reservation.id, loss)).toMatchObject({ status: 'VOIDED', lossNano: usd(0.32) });
      expect((await ledger.usageHistory({ accountId: account.id })).items).toHaveLength(2);
      expect((await ledger.journal()).filter((e) => e.reservationId === reservation.id)).toHaveLength(2);
      await expectError(
        ledger.settle({ reservationId: reservation.id, lines: [line(1n)], latencyMs: null }),
        409,
        'reservation_not_active',
      );
      const retry = await reserve(account.id, usd(1), {
        keyId: null,
        model: 'lossy',
        idempotencyKey: reservation.idempotencyKey,
      });
      expect(retry.replayed).toBe(false);
    });

    it('voids with loss concurrently with settles and plain voids (one group commit on PostgreSQL)', async () => {
      const account = await fundedAccount({ usd: usd(10) });
      const held = await Promise.all([1, 2, 3, 4].map(() => reserve(account.id, usd(1))));
      const [a, b, c, d] = held.map((h) => h.reservation.id) as [string, string, string, string];
      const results = await Promise.all([
        ledger.void(a, { lines: [line(usd(0.1), 'text.input')], latencyMs: 1 }),
        ledger.settle({ reservationId: b, lines: [line(usd(0.25))], latencyMs: 1 }),
        ledger.void(c),
        ledger.void(d, { lines: [line(usd(0.2), 'text.input'), line(usd(0.05), 'text.cache_read')], latencyMs: 2 }),
      ]);
      expect(results[0]).toMatchObject({ status: 'VOIDED', chargedNano: 0n, lossNano: usd(0.1) });
      expect(results[2]).toMatchObject({ status: 'VOIDED', chargedNano: null, lossNano: null });
      expect(results[3]).toMatchObject({ status: 'VOIDED', chargedNano: 0n, lossNano: usd(0.25) });
      expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(9.75), reservedNano: 0n });
      const items = (await ledger.usageHistory({ accountId: account.id })).items;
      expect(items.map((u) => [u.reservationId, u.sku, u.listAmountNano, u.amountNano]).sort()).toEqual(
        [
          [a, 'text.input', usd(0.1), 0n],
          [b, 'text.output', usd(0.25), usd(0.25)],
          [d, 'text.cache_read', usd(0.05), 0n],
          [d, 'text.input', usd(0.2), 0n],
        ].sort(),
      );
      const journal = await ledger.journal();
      expectBalancedJournal(journal);
      const lost = journal.filter((e) => e.kind === 'LOSS' && e.side === 'DEBIT');
      expect(lost.map((e) => [e.reservationId, e.amountNano]).sort()).toEqual(
        [
          [a, usd(0.1)],
          [d, usd(0.25)],
        ].sort(),
      );
    });

    it('refuses a void with loss after a settle, and bad loss lines, changing nothing', async () => {
      const account = await fundedAccount({ usd: usd(2) });
      const { reservation } = await reserve(account.id, usd(1));
      await expectError(ledger.void(reservation.id, { lines: [line(-1n)], latencyMs: null }), 400, 'invalid_request');
      expect((await ledger.getReservation(reservation.id))?.status).toBe('RESERVED');
      await ledger.settle({ reservationId: reservation.id, lines: [line(usd(0.5))], latencyMs: null });
      await expectError(
        ledger.void(reservation.id, { lines: [line(usd(0.1))], latencyMs: null }),
        409,
        'already_settled',
      );
      expect((await ledger.usageHistory({ accountId: account.id })).items).toHaveLength(1);
      expect((await ledger.balance(account.id)).usd.availableNano).toBe(usd(1.5));
      // A void with an empty loss is a plain void with a zero loss: nothing journaled.
      const other = await reserve(account.id, usd(1));
      expect(await ledger.void(other.reservation.id, { lines: [], latencyMs: null })).toMatchObject({
        status: 'VOIDED',
        lossNano: 0n,
      });
      expect((await ledger.journal()).filter((e) => e.reservationId === other.reservation.id)).toEqual([]);
    });

    it('charges a retried idempotency key once and frees it for a new attempt after a void', async () => {
      const account = await fundedAccount({ usd: usd(3) });
      const input = { accountId: account.id, keyId: null, idempotencyKey: 'req-1', model: 'm', amountNano: usd(1) };
      const first = await ledger.reserve(input);
      const retry = await ledger.reserve(input);
      expect(retry).toEqual({ reservation: first.reservation, replayed: true, response: null });
      expect((await ledger.balance(account.id)).usd.reservedNano).toBe(usd(1));
      await expectError(ledger.reserve({ ...input, model: 'other' }), 409, 'idempotency_key_reused');
      await ledger.settle({ reservationId: first.reservation.id, lines: [line(usd(1))], latencyMs: null });
      const afterSettle = await ledger.reserve(input);
      expect(afterSettle.replayed).toBe(true);
      expect(afterSettle.reservation.status).toBe('SETTLED');
      expect((await ledger.balance(account.id)).usd.availableNano).toBe(usd(2));

      const other = { ...input, idempotencyKey: 'req-2' };
      const voided = await ledger.reserve(other);
      await ledger.void(voided.reservation.id);
      const fresh = await ledger.reserve(other);
      expect(fresh.replayed).toBe(false);
      expect(fresh.reservation.id).not.toBe(voided.reservation.id);
    });

    it('reserves as much as one source can hold for a flexible request', async () => {
      const account = await fundedAccount({ diem: usd(0.1), credits: usd(0.3), usd: usd(0.2) });
      const flexible = await reserve(account.id, usd(1), { minAmountNano: usd(0.05) });
      expect(flexible.reservation).toMatchObject({ source: 'CREDITS', amountNano: usd(0.3) });
      const exact = await reserve(account.id, usd(0.2), { minAmountNano: usd(0.01) });
      expect(exact.reservation).toMatchObject({ source: 'USD', amountNano: usd(0.2) });
      await expectError(reserve(account.id, usd(1), { minAmountNano: usd(0.2) }), 402, 'insufficient_balance');
      await expectError(reserve(account.id, usd(1), { minAmountNano: usd(2) }), 400, 'invalid_request');
    });

    it('reports what a key can spend now, per source, capped by its limits', async () => {
      const account = await fundedAccount({ diem: usd(2), credits: usd(5), usd: usd(1) });
      const { key } = await ledger.createKey({
        accountId: account.id,
        kind: 'INFERENCE',
        name: 'k',
        limits: [{ currency: 'USD', period: 'EPOCH', amountNano: usd(3) }],
      });
      const spendable = await ledger.spendable({ accountId: account.id, keyId: key.id });
      expect(spendable).toEqual({
        sources: [
          { source: 'DIEM', headroomNano: usd(2) },
          { source: 'CREDITS', headroomNano: usd(3) },
          { source: 'USD', headroomNano: usd(1) },
        ],
        maxNano: usd(3),
        source: 'CREDITS',
      });
      const keyless = await ledger.spendable({ accountId: account.id, keyId: null });
      expect(keyless.maxNano).toBe(usd(5));
    });

    it('enforces a key USD limit per epoch, across credits and USD, and resets it next epoch', async () => {
      const account = await fundedAccount({ credits: usd(10), usd: usd(10) });
      const { key } = await ledger.createKey({
        accountId: account.id,
        kind: 'INFERENCE',
        name: 'capped',
        limits: [{ currency: 'USD', period: 'EPOCH', amountNano: usd(1) }],
      });
      const a = await reserve(account.id, usd(0.75), { keyId: key.id });
      await expectError(reserve(account.id, usd(0.5), { keyId: key.id }), 402, 'key_limit_exceeded');
      await ledger.settle({ reservationId: a.reservation.id, lines: [line(usd(0.5))], latencyMs: null });
      expect((await reserve(account.id, usd(0.5), { keyId: key.id })).reservation.source).toBe('CREDITS');
      await expectError(reserve(account.id, 1n, { keyId: key.id }), 402, 'key_limit_exceeded');
      clock.advance(day);
      expect((await reserve(account.id, usd(1), { keyId: key.id })).replayed).toBe(false);
      // Another key of the same account is not limited.
      const { key: free } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'free' });
      expect((await reserve(account.id, usd(5), { keyId: free.id })).replayed).toBe(false);
    });

    it('falls through to credits when the key DIEM limit is spent, and counts MONTH and LIFETIME limits', async () => {
      const account = await fundedAccount({ diem: usd(10), credits: usd(10) });
      const { key } = await ledger.createKey({
        accountId: account.id,
        kind: 'INFERENCE',
        name: 'k',
        limits: [
          { currency: 'DIEM', period: 'EPOCH', amountNano: usd(1) },
          { currency: 'USD', period: 'MONTH', amountNano: usd(2) },
          { currency: 'USD', period: 'LIFETIME', amountNano: usd(3) },
        ],
      });
      expect((await reserve(account.id, usd(1), { keyId: key.id })).reservation.source).toBe('DIEM');
      expect((await reserve(account.id, usd(1), { keyId: key.id })).reservation.source).toBe('CREDITS');
      expect((await reserve(account.id, usd(1), { keyId: key.id })).reservation.source).toBe('CREDITS');
      await expectError(reserve(account.id, usd(0.5), { keyId: key.id, model: 'm' }), 402, 'key_limit_exceeded');
      clock.set(Date.UTC(2025, 1, 1, 1));
      await ledger.setDiemAllowance(account.id, epochAt(clock.now()), usd(10));
      expect(monthAt(clock.now())).toBe('2025-02');
      expect((await reserve(account.id, usd(1), { keyId: key.id })).reservation.source).toBe('DIEM');
      expect((await reserve(account.id, usd(1), { keyId: key.id })).reservation.source).toBe('CREDITS');
      await expectError(reserve(account.id, usd(0.5), { keyId: key.id }), 402, 'key_limit_exceeded');
    });

    it('counts spend from before a limit was set', async () => {
      const account = await fundedAccount({ usd: usd(10) });
      const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'k' });
      const { reservation } = await reserve(account.id, usd(2), { keyId: key.id });
      await ledger.settle({ reservationId: reservation.id, lines: [line(usd(2))], latencyMs: null });
      await ledger.updateKey(key.id, { limits: [{ currency: 'USD', period: 'EPOCH', amountNano: usd(2.5) }] });
      await expectError(reserve(account.id, usd(1), { keyId: key.id }), 402, 'key_limit_exceeded');
      expect((await reserve(account.id, usd(0.5), { keyId: key.id })).replayed).toBe(false);
    });

    it('reports what each source has available after the hold, as balance() would', async () => {
      const account = await fundedAccount({ diem: usd(2), credits: usd(3), usd: usd(4) });
      for (const amount of [usd(1.5), usd(1), usd(2.5), usd(1.5)]) {
        const { available } = await reserve(account.id, amount);
        const balance = await ledger.balance(account.id);
        expect(available).toEqual({
          DIEM: balance.diem.availableNano,
          CREDITS: balance.credits.availableNano,
          USD: balance.usd.availableNano,
        });
      }
      // The allowance falls below what is already held: DIEM reports 0, never less.
      await ledger.setDiemAllowance(account.id, epochAt(clock.now()), usd(1));
      expect((await reserve(account.id, usd(0.5))).available?.DIEM).toBe(0n);
      // Concurrent reserves (one group commit) each report the state after their own hold; a replay reports nothing.
      const other = await fundedAccount({ usd: usd(10) });
      const idempotencyKey = 'same';
      const results = await Promise.all([
        reserve(other.id, usd(1), { idempotencyKey }),
        reserve(other.id, usd(2)),
        reserve(other.id, usd(3)),
      ]);
      // In the order they ran (most left first), each took its own amount from what the one before left.
      const inOrder = [...results].sort((a, b) => (a.available!.USD > b.available!.USD ? -1 : 1));
      let before = usd(10);
      for (const { reservation, available } of inOrder) {
        expect(before - available!.USD).toBe(reservation.amountNano);
        before = available!.USD;
      }
      expect(before).toBe((await ledger.balance(other.id)).usd.availableNano);
      const replay = await reserve(other.id, usd(1), { idempotencyKey });
      expect(replay.replayed).toBe(true);
      expect(replay.available).toBeUndefined();
    });

    it('counts what a key holds when a limit is set, and rebuilds its counts when limits go and come back', async () => {
      const account = await fundedAccount({ usd: usd(100) });
      const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'k' });
      const limit = (amount: number) => [
        { currency: 'USD' as const, period: 'MONTH' as const, amountNano: usd(amount) },
      ];
      const settled = (await reserve(account.id, usd(1), { keyId: key.id })).reservation;
      await ledger.settle({ reservationId: settled.id, lines: [line(usd(1))], latencyMs: null });
      const heldBefore = (await reserve(account.id, usd(3), { keyId: key.id })).reservation;
      const voidedLater = (await reserve(account.id, usd(2), { keyId: key.id })).reservation;
      // Used: 1 settled + 3 + 2 held.
      await ledger.updateKey(key.id, { limits: limit(10) });
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(4));
      // The hold made before the limit settles for less, and the other is voided: both free their remainder.
      await ledger.settle({ reservationId: heldBefore.id, lines: [line(usd(0.5))], latencyMs: null });
      await ledger.void(voidedLater.id);
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(8.5));
      // Without limits nothing is counted; a new limit is rebuilt from what was settled and what is held meanwhile.
      await ledger.updateKey(key.id, { limits: [] });
      const unlimited = (await reserve(account.id, usd(20), { keyId: key.id })).reservation;
      const heldUnlimited = (await reserve(account.id, usd(4), { keyId: key.id })).reservation;
      await ledger.settle({ reservationId: unlimited.id, lines: [line(usd(20))], latencyMs: null });
      await ledger.updateKey(key.id, { limits: limit(30) });
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(30 - 21.5 - 4));
      await expectError(reserve(account.id, usd(5), { keyId: key.id }), 402, 'key_limit_exceeded');
      await ledger.settle({ reservationId: heldUnlimited.id, lines: [line(usd(1))], latencyMs: null });
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(30 - 22.5));
      // Changing an existing limit keeps the counts; an expired hold is released from them.
      await ledger.updateKey(key.id, { limits: limit(25) });
      const expiring = (await reserve(account.id, usd(2), { keyId: key.id, ttlMs: 1_000 })).reservation;
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(25 - 22.5 - 2));
      clock.advance(2_000);
      expect(await ledger.expireReservations()).toBe(1);
      expect((await ledger.getReservation(expiring.id))?.status).toBe('EXPIRED');
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(25 - 22.5));
      // A new month starts from zero, and a hold from last month still settles into last month's count.
      const lastMonth = (await reserve(account.id, usd(1), { keyId: key.id })).reservation;
      clock.set(Date.UTC(2025, 1, 1, 1));
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(25));
      await ledger.settle({ reservationId: lastMonth.id, lines: [line(usd(1))], latencyMs: null });
      expect((await ledger.spendable({ accountId: account.id, keyId: key.id })).maxNano).toBe(usd(25));
    });

    it('expires reservations after their TTL only, returning their funds', async () => {
      const account = await fundedAccount({ usd: usd(1) });
      const { reservation } = await reserve(account.id, usd(1), { ttlMs: 60_000 });
      clock.advance(59_999);
      expect(await ledger.expireReservations()).toBe(0);
      clock.advance(1);
      expect(await ledger.expireReservations()).toBe(1);
      expect((await ledger.getReservation(reservation.id))?.status).toBe('EXPIRED');
      expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(1), reservedNano: 0n });
      await expectError(
        ledger.settle({ reservationId: reservation.id, lines: [line(1n)], latencyMs: null }),
        409,
        'reservation_not_active',
      );
      expect(await ledger.expireReservations()).toBe(0);
    });

    it('rejects bad reservations before touching any balance', async () => {
      const account = await fundedAccount({ usd: usd(1) });
      await expectError(reserve(account.id, -1n), 400, 'invalid_request');
      await expectError(reserve(account.id, 1n, { idempotencyKey: '' }), 400, 'invalid_request');
      await expectError(reserve(account.id, 1n, { ttlMs: 0 }), 400, 'invalid_request');
      await expectError(reserve('missing', 1n), 404, 'account_not_found');
      expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(1), reservedNano: 0n });
      expect(nanoPerUsd).toBe(usd(1));
    });

    describe('recovery: instances own their holds', () => {
      async function fundedOn(on: Ledger, usdNano: bigint, diemNano = 0n) {
        const account = await on.createAccount();
        await on.addFunds({ accountId: account.id, source: 'USD', amountNano: usdNano, reference: `u-${account.id}` });
        if (diemNano > 0n) await on.setDiemAllowance(account.id, epochAt(clock.now()), diemNano);
        return account;
      }
      const hold = (on: Ledger, accountId: string, amountNano: bigint, extra: Partial<ReserveInput> = {}) =>
        on.reserve({ accountId, keyId: null, idempotencyKey: crypto.randomUUID(), model: 'm', amountNano, ...extra });

      it('records the instance that made a reservation, and renews only its own live holds', async () => {
        expect(ledger.instanceId.length).toBeGreaterThan(0);
        const [a, b] = await harness.openPeers(clock.now, ['instance-a', 'instance-b']);
        try {
          expect([a!.instanceId, b!.instanceId]).toEqual(['instance-a', 'instance-b']);
          const account = await fundedOn(a!, usd(10));
          const mine = (await hold(a!, account.id, usd(1), { ttlMs: 1_000 })).reservation;
          expect(mine.owner).toBe('instance-a');
          expect(await b!.getReservation(mine.id)).toEqual(mine);
          const later = (await hold(a!, account.id, usd(1), { ttlMs: 60_000 })).reservation;
          const theirs = (await hold(b!, account.id, usd(1), { ttlMs: 1_000 })).reservation;
          expect(theirs.owner).toBe('instance-b');
          clock.advance(900);
          // Only raised: the hold that already runs longer keeps its expiry.
          expect(await a!.renewHolds(1_000)).toBe(1);
          const expiry = async (id: string) => (await a!.getReservation(id))?.expiresAtMs;
          expect([await expiry(mine.id), await expiry(later.id), await expiry(theirs.id)]).toEqual([
            start + 1_900,
            start + 60_000,
            start + 1_000,
          ]);
          clock.advance(200);
          expect(await b!.expireReservations()).toBe(1);
          expect((await a!.getReservation(theirs.id))?.status).toBe('EXPIRED');
          expect((await a!.getReservation(mine.id))?.status).toBe('RESERVED');
          // A settled reservation is no longer renewed.
          await a!.settle({ reservationId: mine.id, lines: [line(usd(0.5))], latencyMs: null });
          expect(await a!.renewHolds(100_000)).toBe(1);
          expect(await expiry(mine.id)).toBe(start + 1_900);
          await expectError(a!.renewHolds(0), 400, 'invalid_request');
          expect((await a!.balance(account.id)).usd).toEqual({ availableNano: usd(8.5), reservedNano: usd(1) });
        } finally {
          await a!.close();
          await b!.close();
        }
      });

      it('voids the live holds of every other instance exactly as void does, and frees their keys', async () => {
        const [dead, live] = await harness.openPeers(clock.now, ['dead', 'live']);
        try {
          const account = await fundedOn(dead!, usd(10), usd(1));
          const { key } = await dead!.createKey({
            accountId: account.id,
            kind: 'INFERENCE',
            name: 'k',
            limits: [{ currency: 'TOTAL', period: 'MONTH', amountNano: usd(6) }],
          });
          const held = (await hold(dead!, account.id, usd(2), { keyId: key.id, idempotencyKey: 'h' })).reservation;
          const heldDiem = (await hold(dead!, account.id, usd(0.5), { keyId: key.id })).reservation;
          const settled = (await hold(dead!, account.id, usd(1), { keyId: key.id })).reservation;
          await dead!.settle({ reservationId: settled.id, lines: [line(usd(1))], latencyMs: null });
          const own = (await hold(live!, account.id, usd(1))).reservation;
          expect([held.source, heldDiem.source, settled.source, own.source]).toEqual(['USD', 'DIEM', 'USD', 'USD']);

          expect(await live!.voidHoldsOfOtherInstances()).toBe(2);
          const status = async (id: string) => (await live!.getReservation(id))?.status;
          expect([
            await status(held.id),
            await status(heldDiem.id),
            await status(settled.id),
            await status(own.id),
          ]).toEqual(['VOIDED', 'VOIDED', 'SETTLED', 'RESERVED']);
          const balance = await live!.balance(account.id);
          expect(balance.usd).toEqual({ availableNano: usd(8), reservedNano: usd(1) });
          expect(balance.diem).toMatchObject({ reservedNano: 0n, spentNano: 0n, availableNano: usd(1) });
          // The key's counters let go of the voided holds: only the settled $1 counts.
          expect(await live!.keyLimitUsage(key.id)).toEqual([
            {
              currency: 'TOTAL',
              period: 'MONTH',
              amountNano: usd(6),
              periodKey: `MONTH:${monthAt(clock.now())}`,
              spentNano: usd(1),
              reservedNano: 0n,
              remainingNano: usd(5),
            },
          ]);
          expect(await live!.voidHoldsOfOtherInstances()).toBe(0);
          // The voided attempt's idempotency key is free for a new attempt.
          const retry = await hold(live!, account.id, usd(2), { keyId: key.id, idempotencyKey: 'h' });
          expect(retry.replayed).toBe(false);
          expect(retry.reservation.owner).toBe('live');
          expectBalancedJournal(await live!.journal());
        } finally {
          await dead!.close();
          await live!.close();
        }
      });
    });

    describe('idempotency (Stripe): one key names one request', () => {
      const base = (accountId: string, idempotencyKey: string): ReserveInput => ({
        accountId,
        keyId: null,
        idempotencyKey,
        model: 'm',
        amountNano: usd(1),
      });

      it('refuses a key reused for another request (another digest or API key) with 422, changing nothing', async () => {
        const account = await fundedAccount({ usd: usd(10) });
        const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'k' });
        const input = { ...base(account.id, 'idem-422'), requestHash: 'hash-1' };
        const first = await ledger.reserve(input);
        await expectError(ledger.reserve({ ...input, requestHash: 'hash-2' }), 422, 'idempotency_key_mismatch', null);
        // Another API key is another request, with or without digests.
        await expectError(ledger.reserve({ ...input, keyId: key.id }), 422, 'idempotency_key_mismatch', null);
        await expectError(
          ledger.reserve({ ...input, keyId: key.id, requestHash: null }),
          422,
          'idempotency_key_mismatch',
        );
        expect(await ledger.getReservation(first.reservation.id)).toEqual(first.reservation);
        expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(9), reservedNano: usd(1) });
        await ledger.settle({ reservationId: first.reservation.id, lines: [line(usd(1))], latencyMs: null });
        await expectError(ledger.reserve({ ...input, requestHash: 'hash-2' }), 422, 'idempotency_key_mismatch');
        expect((await ledger.usageHistory({ accountId: account.id })).items).toHaveLength(1);
      });

      it('replays the same digest whatever the bounds, with the answer stored by the settle', async () => {
        const account = await fundedAccount({ usd: usd(10) });
        const input = { ...base(account.id, 'idem-replay'), requestId: 'req-a', requestHash: 'hash-1' };
        const first = await ledger.reserve(input);
        expect(first.reservation).toMatchObject({
          idempotencyKey: 'idem-replay',
          requestId: 'req-a',
          requestHash: 'hash-1',
          owner: ledger.instanceId,
        });
        // Still in flight: a replay with no answer yet.
        const inFlight = await ledger.reserve({ ...input, requestId: 'req-b', model: 'other', amountNano: usd(0.5) });
        expect(inFlight).toEqual({ reservation: first.reservation, replayed: true, response: null });
        const answer = JSON.stringify({ id: 'chatcmpl-1', text: 'héllo' });
        await ledger.settle({
          reservationId: first.reservation.id,
          lines: [line(usd(0.25))],
          latencyMs: 1,
          response: answer,
        });
        const done = await ledger.reserve({ ...input, requestId: 'req-c' });
        expect(done).toMatchObject({ replayed: true, response: answer });
        expect(done.reservation).toMatchObject({ id: first.reservation.id, status: 'SETTLED', requestId: 'req-a' });
        // A settle replay leaves the stored answer alone.
        const again = await ledger.settle({
          reservationId: first.reservation.id,
          lines: [line(usd(0.25))],
          latencyMs: 1,
          response: 'another answer',
        });
        expect(again.replayed).toBe(true);
        expect((await ledger.reserve(input)).response).toBe(answer);
        // Usage carries the attempt's request id, not the idempotency key.
        const { items } = await ledger.usageHistory({ accountId: account.id });
        expect(items.map((u) => u.requestId)).toEqual(['req-a']);
        expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(9.75), reservedNano: 0n });
        // Settled without an answer: the replay has none.
        const bare = await ledger.reserve(base(account.id, 'idem-bare'));
        await ledger.settle({ reservationId: bare.reservation.id, lines: [], latencyMs: null });
        expect(await ledger.reserve(base(account.id, 'idem-bare'))).toMatchObject({ replayed: true, response: null });
      });

      it('keeps the model and amount rule (409) when either attempt has no digest', async () => {
        const account = await fundedAccount({ usd: usd(10) });
        const hashed = { ...base(account.id, 'idem-a'), requestHash: 'hash-1' };
        await ledger.reserve(hashed);
        await expectError(
          ledger.reserve({ ...hashed, requestHash: null, model: 'other' }),
          409,
          'idempotency_key_reused',
        );
        expect((await ledger.reserve({ ...hashed, requestHash: undefined })).replayed).toBe(true);
        const plain = base(account.id, 'idem-b');
        await ledger.reserve(plain);
        await expectError(
          ledger.reserve({ ...plain, requestHash: 'hash-1', amountNano: usd(0.5) }),
          409,
          'idempotency_key_reused',
        );
        expect((await ledger.reserve({ ...plain, requestHash: 'hash-1' })).replayed).toBe(true);
      });

      it('lets a voided or expired attempt run again, whatever its digest, and defaults the request id', async () => {
        const account = await fundedAccount({ usd: usd(10) });
        const input = { ...base(account.id, 'idem-void'), requestHash: 'hash-1', ttlMs: 1_000 };
        const voided = await ledger.reserve(input);
        expect(voided.reservation.requestId).toBe('idem-void');
        await ledger.void(voided.reservation.id);
        const second = await ledger.reserve({ ...input, requestHash: 'hash-2' });
        expect(second.replayed).toBe(false);
        clock.advance(1_000);
        expect(await ledger.expireReservations()).toBe(1);
        const third = await ledger.reserve({ ...input, requestHash: 'hash-3' });
        expect(third.replayed).toBe(false);
        expect(new Set([voided, second, third].map((r) => r.reservation.id)).size).toBe(3);
      });

      it('refuses an answer above the stored-response limit (in UTF-8 bytes) and then charges nothing', async () => {
        const account = await fundedAccount({ usd: usd(10) });
        const { reservation } = await ledger.reserve(base(account.id, 'idem-big'));
        const settle = (response: string) =>
          ledger.settle({ reservationId: reservation.id, lines: [line(usd(0.5))], latencyMs: 1, response });
        const max = ledgerLimits.storedResponseBytesMax;
        await expectError(settle('x'.repeat(max + 1)), 400, 'invalid_request', 'response');
        // Two bytes a character: fewer characters than the limit, more bytes.
        await expectError(settle('é'.repeat(max / 2 + 1)), 400, 'invalid_request', 'response');
        expect((await ledger.getReservation(reservation.id))?.status).toBe('RESERVED');
        expect((await ledger.balance(account.id)).usd).toEqual({ availableNano: usd(9), reservedNano: usd(1) });
        const largest = 'é'.repeat(max / 2);
        expect((await settle(largest)).replayed).toBe(false);
        expect((await ledger.reserve(base(account.id, 'idem-big'))).response).toBe(largest);
      });

      it('validates request ids and digests', async () => {
        const account = await fundedAccount({ usd: usd(1) });
        const input = base(account.id, 'idem-v');
        await expectError(ledger.reserve({ ...input, requestId: '' }), 400, 'invalid_request', 'requestId');
        await expectError(
          ledger.reserve({ ...input, requestHash: 'h'.repeat(ledgerLimits.requestHashLengthMax + 1) }),
          400,
          'invalid_request',
          'requestHash',
        );
        expect((await ledger.balance(account.id)).usd.reservedNano).toBe(0n);
      });
    });

    describe('key limits by what they cover', () => {
      const limited = async (accountId: string, limits: KeyLimit[]) =>
        (await ledger.createKey({ accountId, kind: 'INFERENCE', name: 'limited', limits })).key;
      const headrooms = async (accountId: string, keyId: string) =>
        (await ledger.spendable({ accountId, keyId })).sources.map((s) => s.headroomNano);

      it('caps every source by a TOTAL limit, the allowance by a DIEM limit, credits and USD by a USD limit', async () => {
        const account = await fundedAccount({ diem: usd(1), credits: usd(1), usd: usd(1) });
        const total = await limited(account.id, [{ currency: 'TOTAL', period: 'EPOCH', amountNano: usd(1.5) }]);
        expect((await reserve(account.id, usd(1), { keyId: total.id })).reservation.source).toBe('DIEM');
        expect(await headrooms(account.id, total.id)).toEqual([0n, usd(0.5), usd(0.5)]);
        await expectError(reserve(account.id, usd(0.75), { keyId: total.id }), 402, 'key_limit_exceeded');
        expect((await reserve(account.id, usd(0.5), { keyId: total.id })).reservation.source).toBe('CREDITS');
        expect(await headrooms(account.id, total.id)).toEqual([0n, 0n, 0n]);

        const other = await fundedAccount({ diem: usd(1), credits: usd(1), usd: usd(1) });
        const diem = await limited(other.id, [{ currency: 'DIEM', period: 'EPOCH', amountNano: usd(0.25) }]);
        expect(await headrooms(other.id, diem.id)).toEqual([usd(0.25), usd(1), usd(1)]);
        expect((await reserve(other.id, usd(0.5), { keyId: diem.id })).reservation.source).toBe('CREDITS');
        const both = await limited(other.id, [
          { currency: 'USD', period: 'MONTH', amountNano: usd(0.75) },
          { currency: 'TOTAL', period: 'LIFETIME', amountNano: usd(0.5) },
        ]);
        expect(await headrooms(other.id, both.id)).toEqual([usd(0.5), usd(0.5), usd(0.5)]);
        expect((await reserve(other.id, usd(0.5), { keyId: both.id })).reservation.source).toBe('DIEM');
        expect(await headrooms(other.id, both.id)).toEqual([0n, 0n, 0n]);
      });

      it('keeps counts exact when limits of other currencies come and go', async () => {
        const account = await fundedAccount({ diem: usd(2), usd: usd(10) });
        const key = await limited(account.id, [{ currency: 'USD', period: 'MONTH', amountNano: usd(5) }]);
        const first = (await reserve(account.id, usd(1), { keyId: key.id })).reservation;
        expect(first.source).toBe('DIEM');
        await ledger.settle({ reservationId: first.id, lines: [line(usd(1))], latencyMs: null });
        const held = (await reserve(account.id, usd(2), { keyId: key.id })).reservation;
        expect(held.source).toBe('USD');
        // A TOTAL limit added beside the USD one sees the DIEM spend and the USD hold: $3 used.
        const usdLimit = { currency: 'USD' as const, period: 'MONTH' as const, amountNano: usd(5) };
        await ledger.updateKey(key.id, {
          limits: [usdLimit, { currency: 'TOTAL', period: 'MONTH', amountNano: usd(4) }],
        });
        expect(await headrooms(account.id, key.id)).toEqual([usd(1), 0n, usd(1)]);
        await ledger.updateKey(key.id, { limits: [usdLimit] });
        expect(await headrooms(account.id, key.id)).toEqual([usd(1), 0n, usd(3)]);
        // Spend while the key has no limits is counted by the next limit too.
        await ledger.updateKey(key.id, { limits: [] });
        const unlimited = (await reserve(account.id, usd(1), { keyId: key.id })).reservation;
        await ledger.settle({ reservationId: unlimited.id, lines: [line(usd(1))], latencyMs: null });
        await ledger.updateKey(key.id, { limits: [{ currency: 'TOTAL', period: 'LIFETIME', amountNano: usd(5) }] });
        expect(await headrooms(account.id, key.id)).toEqual([0n, 0n, usd(1)]);
        await ledger.void(held.id);
        expect(await headrooms(account.id, key.id)).toEqual([0n, 0n, usd(3)]);
        expect((await ledger.keyLimitUsage(key.id))[0]).toMatchObject({ spentNano: usd(2), reservedNano: 0n });
      });

      it('names the limit that stops a request, and the sources it covers, in the 402', async () => {
        const account = await fundedAccount({ diem: usd(0.01) });
        const key = await limited(account.id, [{ currency: 'DIEM', period: 'EPOCH', amountNano: usd(0.001) }]);
        await reserve(account.id, usd(0.0008), { keyId: key.id });
        const refusal = async (promise: Promise<unknown>) => {
          const error = (await promise.then(
            () => null,
            (e: unknown) => e,
          )) as PerdiemError;
          expect({ status: error.status, code: error.code, param: error.param }).toEqual({
            status: 402,
            code: 'key_limit_exceeded',
            param: null,
          });
          return error.message;
        };
        expect(await refusal(reserve(account.id, usd(0.00045), { keyId: key.id }))).toBe(
          "this key's DIEM limit for the epoch ($0.001, covering the DIEM allowance) has $0.0002 left; " +
            'the request needs up to $0.00045',
        );
        expect(await refusal(reserve(account.id, usd(0.001), { keyId: key.id, minAmountNano: usd(0.0003) }))).toBe(
          "this key's DIEM limit for the epoch ($0.001, covering the DIEM allowance) has $0.0002 left; " +
            'the request needs at least $0.0003',
        );
        // Credits could pay, but a USD limit stops them too; and a TOTAL limit stops every source.
        await ledger.addFunds({ accountId: account.id, source: 'CREDITS', amountNano: usd(1), reference: 'cr' });
        await ledger.updateKey(key.id, {
          limits: [
            { currency: 'DIEM', period: 'EPOCH', amountNano: usd(0.001) },
            { currency: 'USD', period: 'MONTH', amountNano: usd(0.0001) },
          ],
        });
        expect(await refusal(reserve(account.id, usd(0.00045), { keyId: key.id }))).toBe(
          "this key's DIEM limit for the epoch ($0.001, covering the DIEM allowance) has $0.0002 left, and its " +
            'USD limit for the month ($0.0001, covering credits and the USD balance) has $0.0001 left; ' +
            'the request needs up to $0.00045',
        );
        await ledger.updateKey(key.id, { limits: [{ currency: 'TOTAL', period: 'LIFETIME', amountNano: usd(0.001) }] });
        expect(await refusal(reserve(account.id, usd(0.5), { keyId: key.id }))).toBe(
          "this key's TOTAL limit over the key's lifetime ($0.001, covering every source) has $0.0002 left; " +
            'the request needs up to $0.5',
        );
      });

      it("reports each limit's period, spend, holds and remainder", async () => {
        const account = await fundedAccount({ diem: usd(5), usd: usd(10) });
        const key = await limited(account.id, [
          { currency: 'USD', period: 'LIFETIME', amountNano: usd(3) },
          { currency: 'DIEM', period: 'EPOCH', amountNano: usd(2) },
          { currency: 'TOTAL', period: 'MONTH', amountNano: usd(6) },
        ]);
        const spent = (await reserve(account.id, usd(1), { keyId: key.id })).reservation;
        await ledger.settle({ reservationId: spent.id, lines: [line(usd(0.5))], latencyMs: null });
        expect((await reserve(account.id, usd(2), { keyId: key.id })).reservation.source).toBe('USD');
        const usage = (l: KeyLimit, periodKey: string, spentNano: bigint, reservedNano: bigint) => ({
          ...l,
          periodKey,
          spentNano,
          reservedNano,
          remainingNano: l.amountNano - spentNano - reservedNano,
        });
        const [diem, total, usdLimit] = [key.limits[0]!, key.limits[1]!, key.limits[2]!];
        expect([diem.currency, total.currency, usdLimit.currency]).toEqual(['DIEM', 'TOTAL', 'USD']);
        expect(await ledger.keyLimitUsage(key.id)).toEqual([
          usage(diem, `EPOCH:${epochAt(start)}`, usd(0.5), 0n),
          usage(total, 'MONTH:2025-01', usd(0.5), usd(2)),
          usage(usdLimit, 'LIFETIME', 0n, usd(2)),
        ]);
        clock.advance(day);
        expect((await ledger.keyLimitUsage(key.id))[0]).toEqual(usage(diem, `EPOCH:${epochAt(start) + 1}`, 0n, 0n));
        const { key: free } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'free' });
        expect(await ledger.keyLimitUsage(free.id)).toEqual([]);
        await expectError(ledger.keyLimitUsage('missing'), 404, 'key_not_found');
      });
    });
  });
  describeBudgetConformance(harness);
}
