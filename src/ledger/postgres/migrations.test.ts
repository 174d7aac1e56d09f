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

/** A schema migrated up to `version` only, filled by `fill`. */
type Sql = postgres.Sql<{ bigint: bigint }>;

async function olderSchema(schema: string, version: number, fill: (sql: Sql) => Promise<void>) {
  const sql: Sql = postgres(testDatabaseUrl, {
    max: 1,
    types: { bigint: postgres.BigInt },
    connection: { search_path: schema },
    onnotice: () => {},
  });
  try {
    await sql.unsafe(`CREATE SCHEMA "${schema}"`);
    await applyPostgresMigrations(sql, {
      table: 'schema_migrations',
      lockId: 1,
      migrations: postgresMigrations.filter((m) => m.version <= version),
    });
    await fill(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A schema as version 2 left it: every keyed reservation counted, limits or not. */
async function versionTwoSchema(schema: string): Promise<void> {
  await olderSchema(schema, 2, async (sql) => {
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
  });
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
        Number((await sql`SELECT count(*) AS n FROM key_spend WHERE key_id = ${key} AND currency = 'USD'`)[0]!.n);
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

/**
 * A schema as version 3 left it: a key with a USD and a DIEM limit that settled $2 of DIEM and holds $5 of USD, both
 * counted in their class counters only; reservations without request ids, digests or owners; a key without last6.
 */
async function versionThreeSchema(schema: string): Promise<void> {
  await olderSchema(schema, 3, async (sql) => {
    const epoch = epochAt(start);
    const month = monthAt(start);
    await sql`INSERT INTO accounts VALUES ('a', NULL, 0)`;
    await sql`INSERT INTO balances VALUES ('a', 'CREDITS', 0, 0), ('a', 'USD', ${usd(90)}, ${usd(5)})`;
    await sql`INSERT INTO diem_allowances VALUES ('a', ${epoch}, ${usd(10)}, ${usd(2)}, 0)`;
    await sql`INSERT INTO api_keys VALUES ('k', 'a', 'INFERENCE', 'k', 'hash-k', 'vk_', 0, NULL, NULL, NULL)`;
    await sql`INSERT INTO key_limits VALUES ('k', 'USD', 'MONTH', ${usd(20)}), ('k', 'DIEM', 'LIFETIME', ${usd(50)})`;
    await sql`INSERT INTO reservations (id, account_id, key_id, idempotency_key, model, source, epoch, month,
        amount_nano, status, charged_nano, loss_nano, created_at_ms, expires_at_ms, finished_at_ms, counted)
      VALUES ('1', 'a', 'k', 'settled-1', 'm', 'DIEM', ${epoch}, ${month}, ${usd(3)}, 'SETTLED', ${usd(2)}, 0,
          ${start}, ${start + 600_000}, ${start}, true),
        ('2', 'a', 'k', 'held-2', 'm', 'USD', ${epoch}, ${month}, ${usd(5)}, 'RESERVED', NULL, NULL, ${start},
          ${start + 600_000}, NULL, true)`;
    for (const period of [`EPOCH:${epoch}`, `MONTH:${month}`, 'LIFETIME']) {
      await sql`INSERT INTO key_spend VALUES ('k', 'DIEM', ${period}, ${usd(2)}, 0), ('k', 'USD', ${period}, 0,
        ${usd(5)})`;
    }
  });
}

describe.skipIf(skip !== null)('PostgreSQL migrations 4 and 10: recovery, idempotent replays, TOTAL limits', () => {
  it('carries a version-3 schema over: TOTAL limits read the class counters, old reservations read as before', async () => {
    const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    await versionThreeSchema(schema);
    const clock = fakeClock(start);
    const ledger = await openPostgresLedger({ url: testDatabaseUrl, schema, clock: clock.now, instanceId: 'new' });
    const sql = postgres(testDatabaseUrl, {
      max: 1,
      types: { bigint: postgres.BigInt },
      connection: { search_path: schema },
      onnotice: () => {},
    });
    try {
      // Migration 4 built TOTAL counters from the class ones; migration 10 drops them again (a TOTAL limit reads the
      // class counters), leaving the class counters as they were.
      const counters = await sql`SELECT currency, period_key, spent_nano, reserved_nano FROM key_spend
        WHERE key_id = 'k' ORDER BY currency, period_key`;
      expect(counters.map((row) => row.currency)).toEqual(['DIEM', 'DIEM', 'DIEM', 'USD', 'USD', 'USD']);
      for (const row of counters) {
        expect([row.spent_nano, row.reserved_nano]).toEqual(row.currency === 'DIEM' ? [usd(2), 0n] : [0n, usd(5)]);
      }

      const held = (await ledger.getReservation('2'))!;
      expect([held.requestId, held.requestHash, held.owner]).toEqual(['held-2', null, null]);
      const key = (await ledger.getKey('k'))!;
      expect([key.secretLast6, key.rateLimits]).toEqual([null, null]);

      // A TOTAL limit is accepted and reads the backfilled counters: $12 used of $15.
      await ledger.updateKey('k', {
        limits: [...key.limits, { currency: 'TOTAL', period: 'MONTH', amountNano: usd(15) }],
      });
      const usage = await ledger.keyLimitUsage('k');
      expect(usage.find((u) => u.currency === 'TOTAL')).toMatchObject({ spentNano: usd(2), remainingNano: usd(8) });
      expect(usage.find((u) => u.currency === 'USD')).toMatchObject({ reservedNano: usd(5) });

      // The old hold has no owner: it belongs to no live instance, and its settle records its idempotency key.
      expect(await ledger.renewHolds(600_000)).toBe(0);
      await ledger.settle({ reservationId: '2', lines: [line(usd(1))], latencyMs: null });
      const [record] = (await ledger.usageHistory({ accountId: 'a' })).items;
      expect(record?.requestId).toBe('held-2');
      expect(await ledger.keyLimitUsage('k')).toContainEqual(
        expect.objectContaining({ currency: 'TOTAL', spentNano: usd(3), reservedNano: 0n }),
      );
      // The TOTAL limit caps a reserve from either class: $12 is left of $15, and not a nano more.
      expect((await ledger.spendable({ accountId: 'a', keyId: 'k' })).maxNano).toBe(usd(12));
      await expect(
        ledger.reserve({ accountId: 'a', keyId: 'k', idempotencyKey: 'over', model: 'm', amountNano: usd(12) + 1n }),
      ).rejects.toMatchObject({ code: 'key_limit_exceeded' });
      await ledger.reserve({ accountId: 'a', keyId: 'k', idempotencyKey: 'fits', model: 'm', amountNano: usd(12) });
      expect(await ledger.keyLimitUsage('k')).toContainEqual(
        expect.objectContaining({ currency: 'TOTAL', spentNano: usd(3), reservedNano: usd(12), remainingNano: 0n }),
      );
    } finally {
      await sql.end({ timeout: 5 });
      await ledger.close();
      await dropSchema(schema);
    }
  });

  it('voids the holds of a version-3 schema, which no instance owns, at a single-writer start', async () => {
    const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    await versionThreeSchema(schema);
    const ledger = await openPostgresLedger({ url: testDatabaseUrl, schema, clock: fakeClock(start).now });
    try {
      expect(await ledger.voidHoldsOfOtherInstances()).toBe(1);
      expect((await ledger.getReservation('2'))?.status).toBe('VOIDED');
      expect((await ledger.balance('a')).usd).toEqual({ availableNano: usd(95), reservedNano: 0n });
      expect(await ledger.keyLimitUsage('k')).toContainEqual(
        expect.objectContaining({ currency: 'USD', spentNano: 0n, reservedNano: 0n }),
      );
    } finally {
      await ledger.close();
      await dropSchema(schema);
    }
  });
});

describe.skipIf(skip !== null)('PostgreSQL migration 5: allowance per wallet, summed per account', () => {
  it("keeps a directly set allowance as the direct part, and lets the feed's next write replace a fed one", async () => {
    const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    const epoch = epochAt(start);
    const [fedWallet, laterWallet] = [`0x${'a'.repeat(40)}`, `0x${'b'.repeat(40)}`];
    // Version 4: account 'granted' (no wallet) with $10 set directly, $2 spent; 'fed' with $100 the feed wrote.
    await olderSchema(schema, 4, async (sql) => {
      for (const account of ['granted', 'fed']) {
        await sql`INSERT INTO accounts VALUES (${account}, NULL, 0)`;
        await sql`INSERT INTO balances VALUES (${account}, 'CREDITS', 0, 0), (${account}, 'USD', 0, 0)`;
      }
      await sql`INSERT INTO wallets VALUES (${fedWallet}, 'fed', 0)`;
      await sql`INSERT INTO diem_allowances VALUES ('granted', ${epoch}, ${usd(10)}, ${usd(2)}, 0),
        ('fed', ${epoch}, ${usd(100)}, 0, 0)`;
    });
    const ledger = await openPostgresLedger({ url: testDatabaseUrl, schema, clock: fakeClock(start).now });
    try {
      const diem = async (account: string) => (await ledger.balance(account)).diem;
      expect(await diem('granted')).toMatchObject({ allowanceNano: usd(10), spentNano: usd(2) });
      expect(await diem('fed')).toMatchObject({ allowanceNano: usd(100) });
      // The feed writes the fed wallet's $100 again: the account has $100, not $200.
      await ledger.setWalletAllowance(fedWallet, epoch, usd(100));
      expect(await diem('fed')).toMatchObject({ allowanceNano: usd(100) });
      // The granted account's $10 is its direct part: a wallet linked later adds to it.
      await ledger.linkWallet('granted', laterWallet);
      await ledger.setWalletAllowance(laterWallet, epoch, usd(5));
      expect(await diem('granted')).toMatchObject({ allowanceNano: usd(15), spentNano: usd(2) });
      await ledger.setDiemAllowance('granted', epoch, usd(1));
      expect(await diem('granted')).toMatchObject({ allowanceNano: usd(6) });
    } finally {
      await ledger.close();
      await dropSchema(schema);
    }
  });
});
