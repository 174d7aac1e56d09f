/**
 * What only the PostgreSQL adapter has: replicas sharing one schema, and group commit (`perdiem_batch`). The shared
 * behaviour is in the conformance suite. Skipped, with a printed reason, when PostgreSQL is unreachable.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { line } from '../conformance.ts';
import { type HotOp, runHotBatch } from '../metering/postgresHotBatch.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from '../testing/harness.ts';
import type { Ledger, ReserveInput, ReserveResult, SettleResult } from '../types.ts';
import type { Sql } from './pool.ts';
import { openPostgresLedger } from './postgresLedger.ts';

const start = Date.UTC(2025, 2, 10, 12);
const usd = (n: number): bigint => BigInt(Math.round(n * 1e6)) * 1000n;
const ttlMs = 60_000;
const skip = await postgresSkipReason();

describe.skipIf(skip !== null)('PostgreSQL ledger', () => {
  let clock: FakeClock;
  let schema: string;
  let opened: Ledger[];

  beforeEach(() => {
    clock = fakeClock(start);
    schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    opened = [];
  });
  afterEach(async () => {
    for (const ledger of opened) await ledger.close();
    await dropSchema(schema);
  });

  /** A replica: its own pool and instance id over the shared schema. */
  const replica = async (instanceId: string) => {
    const ledger = await openPostgresLedger({
      url: testDatabaseUrl,
      schema,
      createSchema: true,
      clock: clock.now,
      instanceId,
    });
    opened.push(ledger);
    return ledger;
  };

  async function limitedKey(ledger: Ledger) {
    const account = await ledger.createAccount();
    await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: usd(10), reference: `f-${account.id}` });
    const limits = [{ currency: 'TOTAL' as const, period: 'MONTH' as const, amountNano: usd(8) }];
    const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'k', limits });
    return { accountId: account.id, keyId: key.id };
  }

  it("keeps a live replica's holds past their TTL while it renews, and lets another replica expire them after it stops", async () => {
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    const { accountId, keyId } = await limitedKey(a);
    // Made together (one group commit), so the batch records the owner too.
    const held = await Promise.all(
      [1, 2, 3].map((n) =>
        a.reserve({ accountId, keyId, idempotencyKey: `i-${n}`, model: 'm', amountNano: usd(1), ttlMs }),
      ),
    );
    expect(held.map((r) => r.reservation.owner)).toEqual(['replica-a', 'replica-a', 'replica-a']);

    // Three TTLs pass; A renews each half TTL, B sweeps each time: nothing of A's expires.
    for (let pass = 0; pass < 6; pass++) {
      clock.advance(ttlMs / 2);
      expect(await a.renewHolds(ttlMs)).toBe(3);
      expect(await b.expireReservations()).toBe(0);
    }
    expect((await b.balance(accountId)).usd.reservedNano).toBe(usd(3));

    // A dies: its holds run out one TTL after its last renewal, and B's sweep returns them.
    await a.close();
    opened = opened.filter((l) => l !== a);
    clock.advance(ttlMs - 1);
    expect(await b.expireReservations()).toBe(0);
    clock.advance(1);
    expect(await b.expireReservations()).toBe(3);
    expect((await b.balance(accountId)).usd).toEqual({ availableNano: usd(10), reservedNano: 0n });
    const [total] = await b.keyLimitUsage(keyId);
    expect(total).toMatchObject({ currency: 'TOTAL', spentNano: 0n, reservedNano: 0n, remainingNano: usd(8) });
  });

  it('voids the holds of other instances only, and renews its own', async () => {
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    const { accountId } = await limitedKey(a);
    const reserve = (on: Ledger, n: number) =>
      on.reserve({ accountId, keyId: null, idempotencyKey: `${on.instanceId}-${n}`, model: 'm', amountNano: usd(0.1) });
    await Promise.all([...[1, 2, 3, 4].map((n) => reserve(a, n)), ...[1, 2].map((n) => reserve(b, n))]);
    expect(await b.voidHoldsOfOtherInstances()).toBe(4);
    // Holds are only ever raised: renew past the default TTL. A has nothing left to renew.
    expect(await a.renewHolds(ttlMs * 20)).toBe(0);
    expect(await b.renewHolds(ttlMs * 20)).toBe(2);
    expect((await a.balance(accountId)).usd).toEqual({ availableNano: usd(9.8), reservedNano: usd(0.2) });
  });

  it('carries request ids, digests, owners and stored answers through one group commit', async () => {
    const ledger = await replica('replica-a');
    const { accountId, keyId } = await limitedKey(ledger);
    const now = clock.now();
    const reserveOp = (n: number, extra: Partial<ReserveInput> = {}) => {
      const input: ReserveInput = {
        accountId,
        keyId,
        idempotencyKey: `idem-${n}`,
        requestId: `req-${n}`,
        requestHash: `hash-${n}`,
        model: 'm',
        amountNano: usd(1),
        ...extra,
      };
      const call = { id: `r${n}`, input, requestId: input.requestId ?? input.idempotencyKey };
      return {
        kind: 'reserve',
        call: {
          ...call,
          requestHash: input.requestHash ?? null,
          amountNano: input.amountNano,
          minAmountNano: input.amountNano,
          now,
          expiresAtMs: now + ttlMs,
          epoch: epochAt(now),
          month: monthAt(now),
        },
      };
    };
    const settleOp = (n: number, response: string | undefined) => ({
      kind: 'settle',
      call: { input: { reservationId: `r${n}`, lines: [line(usd(0.5))], latencyMs: 7, response }, now },
    });
    // The batch path directly, as replica-a runs it: the batcher would hide a failed batch behind its one-by-one
    // replay.
    const sql = postgres(testDatabaseUrl, {
      max: 1,
      types: { bigint: postgres.BigInt },
      connection: { search_path: schema },
      onnotice: () => {},
    }) as unknown as Sql;
    const batch = (ops: unknown[]) => runHotBatch(sql, 'replica-a', ops as HotOp[]);

    const reserved = (await batch([reserveOp(1), reserveOp(2, { requestHash: null })])) as ReserveResult[];
    expect(reserved.map((r) => [r.reservation.requestId, r.reservation.requestHash, r.reservation.owner])).toEqual([
      ['req-1', 'hash-1', 'replica-a'],
      ['req-2', null, 'replica-a'],
    ]);
    expect(reserved.map((r) => r.available?.USD)).toEqual([usd(9), usd(8)]);

    const answer = JSON.stringify({ id: 'chatcmpl-1', text: 'é'.repeat(100) });
    const settled = (await batch([settleOp(1, answer), settleOp(2, undefined)])) as SettleResult[];
    expect(settled.map((s) => [s.reservation.status, s.reservation.chargedNano])).toEqual([
      ['SETTLED', usd(0.5)],
      ['SETTLED', usd(0.5)],
    ]);

    // Replays in one batch: the same digest whatever the amount, with the stored answer; a digest against none stored
    // falls back to the model and amount rule, and the second attempt stored no answer.
    const replays = (await batch([
      reserveOp(3, { idempotencyKey: 'idem-1', requestHash: 'hash-1', amountNano: usd(2) }),
      reserveOp(4, { idempotencyKey: 'idem-2', requestHash: 'other' }),
    ])) as ReserveResult[];
    expect(replays.map((r) => [r.replayed, r.reservation.id, r.response])).toEqual([
      [true, 'r1', answer],
      [true, 'r2', null],
    ]);

    const usage = await ledger.usageHistory({ accountId });
    expect(usage.items.map((u) => u.requestId).sort()).toEqual(['req-1', 'req-2']);
    await sql.end({ timeout: 5 });
  });
});
