/**
 * 1,000 reservations race for a balance (or a key limit) that covers exactly 100 of them: exactly 100 win, and once
 * they settle the balance is exactly 0. SQLite: 4 worker threads, each with its own connection to one WAL file, each
 * firing 250 reservations at once. PostgreSQL: two ledger instances (as two gateway replicas), each with its own
 * pool, firing 500 each at once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { PerdiemError } from '../core/errors.ts';
import { line } from './conformance.ts';
import { openPostgresLedger } from './postgres/postgresLedger.ts';
import { openSqliteLedger } from './sqlite/sqliteLedger.ts';
import { openTestPostgresLedger, postgresSkipReason, testDatabaseUrl } from './testing/harness.ts';
import type { Ledger } from './types.ts';

const racers = 1_000;
const winners = 100;
const amountNano = 1_234_567n;
const nowMs = Date.UTC(2025, 5, 1, 12);

type Scenario = 'balance' | 'key limit';

/** Funds the account: the balance covers exactly `winners` in the balance race, plenty in the key-limit race. */
async function prepare(ledger: Ledger, scenario: Scenario) {
  const account = await ledger.createAccount();
  const funded = scenario === 'balance' ? amountNano * BigInt(winners) : amountNano * BigInt(racers);
  await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: funded, reference: `race-${account.id}` });
  const limits =
    scenario === 'key limit'
      ? [{ currency: 'USD' as const, period: 'EPOCH' as const, amountNano: amountNano * BigInt(winners) }]
      : [];
  const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'racer', limits });
  return { accountId: account.id, keyId: key.id, funded };
}

async function settleAllAndCheck(ledger: Ledger, accountId: string, won: string[], funded: bigint) {
  expect(won).toHaveLength(winners);
  expect(new Set(won).size).toBe(winners);
  await Promise.all(won.map((id) => ledger.settle({ reservationId: id, lines: [line(amountNano)], latencyMs: 1 })));
  const balance = await ledger.balance(accountId);
  expect(balance.usd.reservedNano).toBe(0n);
  expect(balance.usd.availableNano).toBe(funded - amountNano * BigInt(winners));
}

describe('concurrency: sqlite (4 threads, one file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perdiem-race-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const scenario of ['balance', 'key limit'] as const) {
    it(`lets exactly ${winners} of ${racers} racing reservations through a ${scenario} that covers ${winners}`, async () => {
      const path = join(dir, `${scenario.replace(' ', '-')}.db`);
      const ledger = openSqliteLedger({ path, clock: () => nowMs });
      const { accountId, keyId, funded } = await prepare(ledger, scenario);
      const threads = 4;
      const results = await Promise.all(
        Array.from({ length: threads }, (_, t) =>
          runWorker({ path, accountId, keyId, count: racers / threads, amountNano, prefix: `t${t}`, nowMs }),
        ),
      );
      expect(results.flatMap((r) => r.failures)).toEqual([]);
      const refusals = results.flatMap((r) => r.refusals);
      expect(refusals).toHaveLength(racers - winners);
      expect(new Set(refusals)).toEqual(
        new Set([scenario === 'balance' ? 'insufficient_balance' : 'key_limit_exceeded']),
      );
      await settleAllAndCheck(
        ledger,
        accountId,
        results.flatMap((r) => r.won),
        funded,
      );
      if (scenario === 'balance') expect((await ledger.balance(accountId)).usd.availableNano).toBe(0n);
      await ledger.close();
    });
  }
});

function runWorker(data: Record<string, unknown>): Promise<{ won: string[]; refusals: string[]; failures: string[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./testing/raceWorker.ts', import.meta.url), { workerData: data });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const pgSkip = await postgresSkipReason();
describe.skipIf(pgSkip !== null)('concurrency: postgres (two replicas, two pools)', () => {
  for (const scenario of ['balance', 'key limit'] as const) {
    it(`lets exactly ${winners} of ${racers} racing reservations through a ${scenario} that covers ${winners}`, async () => {
      const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
      const replicaA = await openTestPostgresLedger({ schema, clock: () => nowMs, poolMax: 12 });
      try {
        const { accountId, keyId, funded } = await prepare(replicaA, scenario);
        const replicaB = await openPostgresLedger({ url: testDatabaseUrl, schema, clock: () => nowMs, poolMax: 12 });
        try {
          const fire = (ledger: Ledger, prefix: string) =>
            Array.from({ length: racers / 2 }, (_, i) =>
              ledger.reserve({ accountId, keyId, idempotencyKey: `${prefix}-${i}`, model: 'm', amountNano }),
            );
          const outcomes = await Promise.allSettled([...fire(replicaA, 'a'), ...fire(replicaB, 'b')]);
          const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.reservation.id] : []));
          const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
          expect(reasons.filter((r) => !(r instanceof PerdiemError))).toEqual([]);
          expect(new Set(reasons.map((r: PerdiemError) => r.code))).toEqual(
            new Set([scenario === 'balance' ? 'insufficient_balance' : 'key_limit_exceeded']),
          );
          await settleAllAndCheck(replicaB, accountId, won, funded);
          if (scenario === 'balance') expect((await replicaA.balance(accountId)).usd.availableNano).toBe(0n);
        } finally {
          await replicaB.close();
        }
      } finally {
        await replicaA.close();
      }
    });
  }
});

describe.skipIf(pgSkip !== null)('concurrency: postgres, limits changed mid-race', () => {
  it('keeps a key’s counters exact while its limits come and go under two replicas’ reserves and settles', async () => {
    const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    const replicaA = await openTestPostgresLedger({ schema, clock: () => nowMs, poolMax: 8 });
    try {
      const replicaB = await openPostgresLedger({ url: testDatabaseUrl, schema, clock: () => nowMs, poolMax: 8 });
      try {
        const account = await replicaA.createAccount();
        const funded = amountNano * 10_000n;
        await replicaA.addFunds({ accountId: account.id, source: 'USD', amountNano: funded, reference: 'toggle' });
        const { key } = await replicaA.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'toggled' });
        const limitNano = amountNano * 5_000n;
        const limits = [{ currency: 'USD' as const, period: 'LIFETIME' as const, amountNano: limitNano }];
        let racing = true;
        // Each pair charges a different share of its reservation, so that a lost or doubled count shows.
        const pairs = async (ledger: Ledger, prefix: string) => {
          for (let i = 0; i < 60; i++) {
            await Promise.all(
              Array.from({ length: 8 }, async (_, j) => {
                const { reservation } = await ledger.reserve({
                  accountId: account.id,
                  keyId: key.id,
                  idempotencyKey: `${prefix}-${i}-${j}`,
                  model: 'm',
                  amountNano,
                });
                const charged = (amountNano * BigInt(1 + ((i + j) % 7))) / 8n;
                if ((i + j) % 5 === 0) await ledger.void(reservation.id);
                else await ledger.settle({ reservationId: reservation.id, lines: [line(charged)], latencyMs: 1 });
              }),
            );
          }
        };
        const toggle = async () => {
          for (let n = 0; racing; n++) {
            await replicaA.updateKey(key.id, { limits: n % 2 === 0 ? limits : [] });
            await new Promise((resolve) => setTimeout(resolve, 15));
          }
          await replicaA.updateKey(key.id, { limits });
        };
        const toggling = toggle();
        // Limits come back while the pairs still run, so the final counters are kept by settles, not rebuilt.
        const racers = Promise.all([pairs(replicaA, 'a'), pairs(replicaB, 'b')]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        racing = false;
        await toggling;
        await racers;
        const balance = await replicaA.balance(account.id);
        expect(balance.usd.reservedNano).toBe(0n);
        const used = funded - balance.usd.availableNano;
        const spendable = await replicaB.spendable({ accountId: account.id, keyId: key.id });
        expect(spendable.sources.find((s) => s.source === 'USD')?.headroomNano).toBe(limitNano - used);
      } finally {
        await replicaB.close();
      }
    } finally {
      await replicaA.close();
    }
  });
});
