/**
 * Migrations applied to a PostgreSQL schema written by an earlier version: the state it holds must carry over
 * exactly. Skipped, with a printed reason, when PostgreSQL is unreachable.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { line } from '../conformance.ts';
import { fakeClock } from '../testing/fakeClock.ts';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from '../testing/harness.ts';
import { applyPostgresMigrations } from './migrate.ts';
import { postgresMigrations } from './migrations.ts';
import { openPostgresLedger } from './postgresLedger.ts';

const start = Date.UTC(2025, 0, 15, 12);
const usd = (n: number): bigint => BigInt(n) * 1_000_000_000n;
const skip = await postgresSkipReason();

/** A schema as version 2 left it: every keyed reservation counted, limits or not. */
async function versionTwoSchema(schema: string): Promise<void> {
  const sql = postgres(testDatabaseUrl, {
    max: 1,
    types: { bigint: postgres.BigInt },
    connection: { search_path: schema },
    onnotice: () => {},
  });
  try {
    await sql.unsafe(`CREATE SCHEMA "${schema}"`);
    await applyPostgresMigrations(sql as unknown as postgres.Sql<{ bigint: bigint }>, {
      table: 'schema_migrations',
      lockId: 1,
      migrations: postgresMigrations.filter((m) => m.version <= 2),
    });
    const epoch = epochAt(start);
    const month = monthAt(start);
    await sql`INSERT INTO accounts VALUES ('a', NULL, 0)`;
    await sql`INSERT INTO balances VALUES ('a', 'CREDITS', 0, 0), ('a', 'USD', ${usd(90)}, ${usd(10)})`;
    for (const key of ['free', 'limited']) {
      await sql`INSERT INTO api_keys VALUES (${key}, 'a', 'INFERENCE', ${key}, ${`hash-${key}`}, 'vk_', 0, NULL, NULL,
        NULL)`;
    }
    await sql`INSERT INTO key_limits VALUES ('limited', 'USD', 'MONTH', ${usd(20)})`;
    // Each key holds one live reservation of $5, counted in all three of its period counters.
    for (const [id, key] of [
      ['1', 'free'],
      ['2', 'limited'],
    ] as const) {
      await sql`INSERT INTO reservations (id, account_id, key_id, idempotency_key, model, source, epoch, month,
        amount_nano, status, created_at_ms, expires_at_ms) VALUES (${id}, 'a', ${key}, ${`r${id}`}, 'm', 'USD',
        ${epoch}, ${month}, ${usd(5)}, 'RESERVED', ${start}, ${start + 600_000})`;
      for (const period of [`EPOCH:${epoch}`, `MONTH:${month}`, 'LIFETIME']) {
        await sql`INSERT INTO key_spend VALUES (${key}, 'USD', ${period}, 0, ${usd(5)})`;
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe.skipIf(skip !== null)('PostgreSQL migration 3: key spend counted only for keys with limits', () => {
  it('drops the counters of keys without limits and keeps those of keys with limits', async () => {
    const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    await versionTwoSchema(schema);
    const clock = fakeClock(start);
    const ledger = await openPostgresLedger({ url: testDatabaseUrl, schema, clock: clock.now });
    const sql = postgres(testDatabaseUrl, { max: 1, connection: { search_path: schema }, onnotice: () => {} });
    try {
      const spendRows = async (key: string) =>
        Number((await sql`SELECT count(*) AS n FROM key_spend WHERE key_id = ${key}`)[0]!.n);
      expect(await spendRows('free')).toBe(0);
      expect(await spendRows('limited')).toBe(3);
      expect((await ledger.spendable({ accountId: 'a', keyId: 'limited' })).maxNano).toBe(usd(15));
      // Both holds settle: the free key's leaves no counter behind, the limited key's moves to spent.
      await ledger.settle({ reservationId: '1', lines: [line(usd(4))], latencyMs: null });
      await ledger.settle({ reservationId: '2', lines: [line(usd(3))], latencyMs: null });
      expect(await spendRows('free')).toBe(0);
      expect((await ledger.spendable({ accountId: 'a', keyId: 'limited' })).maxNano).toBe(usd(17));
      expect((await ledger.balance('a')).usd).toEqual({ availableNano: usd(93), reservedNano: 0n });
    } finally {
      await sql.end({ timeout: 5 });
      await ledger.close();
      await dropSchema(schema);
    }
  });
});
