/**
 * The usage history and analytics every Ledger adapter must show (ReportingLedger). `describeLedgerConformance`
 * (../conformance.ts) runs it once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { day, expectError, fundedAccountOn, line, reserveOn, start, usd } from '../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { Ledger, ReserveInput } from '../types.ts';

export function describeReportingConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: reporting`, () => {
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

    it('pages usage history newest first with a cursor and filters', async () => {
      const account = await fundedAccount({ usd: usd(100) });
      for (let i = 0; i < 7; i++) {
        const { reservation } = await reserve(account.id, usd(1), { model: i % 2 ? 'odd' : 'even' });
        await ledger.settle({ reservationId: reservation.id, lines: [line(BigInt(i + 1))], latencyMs: i });
        clock.advance(i === 3 ? day : 1000);
      }
      const seen: bigint[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<Ledger['usageHistory']>> = await ledger.usageHistory({
          accountId: account.id,
          limit: 3,
          cursor,
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((u) => u.amountNano));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([7n, 6n, 5n, 4n, 3n, 2n, 1n]);
      const odd = await ledger.usageHistory({ accountId: account.id, model: 'odd' });
      expect(odd.items.map((u) => u.amountNano)).toEqual([6n, 4n, 2n]);
      const early = await ledger.usageHistory({ accountId: account.id, toMs: start + 2000 });
      expect(early.items.map((u) => u.amountNano)).toEqual([2n, 1n]);
      await expectError(ledger.usageHistory({ accountId: account.id, cursor: 'garbage' }), 400, 'invalid_request');
    });

    it('aggregates usage by day, model and key', async () => {
      const account = await fundedAccount({ diem: usd(1), usd: usd(100) });
      const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'k' });
      const spend = async (amountNano: bigint, model: string, keyId: string | null) => {
        const { reservation } = await reserve(account.id, amountNano, { model, keyId });
        await ledger.settle({
          reservationId: reservation.id,
          lines: [line(amountNano, 'a'), line(0n, 'b')],
          latencyMs: 1,
        });
      };
      await spend(usd(1), 'x', key.id); // DIEM
      await spend(usd(2), 'y', null);
      clock.advance(day);
      await spend(usd(3), 'x', key.id);
      const analytics = await ledger.usageAnalytics({
        accountId: account.id,
        fromMs: start - day,
        toMs: start + 2 * day,
      });
      expect(analytics.byDay).toEqual([
        { group: '2025-01-15', currency: 'DIEM', amountNano: usd(1), lossNano: 0n, requests: 1, units: Number(usd(1)) },
        { group: '2025-01-15', currency: 'USD', amountNano: usd(2), lossNano: 0n, requests: 1, units: Number(usd(2)) },
        { group: '2025-01-16', currency: 'USD', amountNano: usd(3), lossNano: 0n, requests: 1, units: Number(usd(3)) },
      ]);
      expect(analytics.byModel.map((r) => [r.group, r.currency, r.amountNano])).toEqual([
        ['x', 'DIEM', usd(1)],
        ['x', 'USD', usd(3)],
        ['y', 'USD', usd(2)],
      ]);
      expect(analytics.byKey.map((r) => [r.group, r.currency, r.amountNano])).toEqual(
        [
          ['', 'USD', usd(2)],
          [key.id, 'DIEM', usd(1)],
          [key.id, 'USD', usd(3)],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      const forKey = await ledger.usageAnalytics({
        accountId: account.id,
        fromMs: start,
        toMs: start + day,
        keyId: key.id,
      });
      expect(forKey.byModel.map((r) => r.amountNano)).toEqual([usd(1)]);
    });

    it('finds a settled charge by request id, with its lines and price sheet, for its own account only', async () => {
      const account = await fundedAccount({ usd: usd(100) });
      const other = await fundedAccount({ usd: usd(100) });
      const sheet = `0x${'a1'.repeat(32)}`;
      const { reservation } = await reserve(account.id, 10n, { requestId: 'req_charge', model: 'mm' });
      expect(await ledger.chargeOf({ accountId: account.id, requestId: 'req_charge' })).toBeNull(); // still held
      clock.advance(5);
      // 12 listed, capped at the 10 held: the rows sum to what was charged.
      await ledger.settle({
        reservationId: reservation.id,
        lines: [line(7n, 'text.input'), line(5n, 'text.output')],
        latencyMs: 3,
        priceSheetHash: sheet,
      });
      const charge = await ledger.chargeOf({ accountId: account.id, requestId: 'req_charge' });
      expect(charge?.reservation).toMatchObject({
        id: reservation.id,
        requestId: 'req_charge',
        status: 'SETTLED',
        chargedNano: 10n,
        model: 'mm',
        source: 'USD',
        finishedAtMs: start + 5,
      });
      expect(charge?.priceSheetHash).toBe(sheet);
      expect(charge?.lines.map((l) => [l.sku, l.units, l.amountNano, l.listAmountNano])).toEqual([
        ['text.input', 7, 7n, 7n],
        ['text.output', 5, 3n, 5n],
      ]);
      expect(await ledger.chargeOf({ accountId: other.id, requestId: 'req_charge' })).toBeNull();
      expect(await ledger.chargeOf({ accountId: account.id, requestId: 'req_nothing' })).toBeNull();

      const voided = await reserve(account.id, 10n, { requestId: 'req_voided' });
      await ledger.void(voided.reservation.id);
      expect(await ledger.chargeOf({ accountId: account.id, requestId: 'req_voided' })).toBeNull();

      const bare = await reserve(account.id, 10n, { requestId: 'req_bare' });
      await ledger.settle({ reservationId: bare.reservation.id, lines: [line(2n)], latencyMs: null });
      expect((await ledger.chargeOf({ accountId: account.id, requestId: 'req_bare' }))?.priceSheetHash).toBeNull();

      const bad = await reserve(account.id, 10n, { requestId: 'req_bad' });
      await expectError(
        ledger.settle({ reservationId: bad.reservation.id, lines: [line(2n)], latencyMs: null, priceSheetHash: 'x' }),
        400,
        'invalid_request',
      );
      expect(await ledger.chargeOf({ accountId: account.id, requestId: 'req_bad' })).toBeNull();

      // Settled together (one group commit where the adapter batches): each keeps its own sheet.
      const together = await Promise.all(
        [0, 1, 2, 3].map((i) => reserve(account.id, 10n, { requestId: `req_together_${i}` })),
      );
      const sheets = [0, 1, 2, 3].map((i) => `0x${String(i).repeat(64)}`);
      await Promise.all(
        together.map(({ reservation: r }, i) =>
          ledger.settle({
            reservationId: r.id,
            lines: [line(BigInt(i + 1))],
            latencyMs: 1,
            priceSheetHash: sheets[i]!,
          }),
        ),
      );
      for (const i of [0, 1, 2, 3]) {
        const settled = await ledger.chargeOf({ accountId: account.id, requestId: `req_together_${i}` });
        expect([settled?.priceSheetHash, settled?.reservation.chargedNano]).toEqual([sheets[i], BigInt(i + 1)]);
      }
    });

    it('aggregates the whole fleet when no account is given', async () => {
      const model = `fleet-${Math.random().toString(36).slice(2)}`;
      for (const amount of [usd(1), usd(2)]) {
        const account = await fundedAccount({ usd: usd(10) });
        const { reservation } = await reserve(account.id, amount, { model, keyId: null });
        await ledger.settle({ reservationId: reservation.id, lines: [line(amount, 'a')], latencyMs: 1 });
      }
      const fleet = await ledger.usageAnalytics({ accountId: null, fromMs: start - day, toMs: start + 2 * day });
      const rows = fleet.byModel.filter((row) => row.group === model);
      expect(rows.map((row) => [row.currency, row.amountNano, row.requests])).toEqual([['USD', usd(3), 2]]);
    });
  });
}
