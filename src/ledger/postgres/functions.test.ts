/**
 * The ledger's functions are installed once per change of their text: an open of an up-to-date schema rewrites
 * nothing, and a changed set replaces every overload, leaving none behind. Skipped, with a printed reason, when
 * PostgreSQL is unreachable.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClock } from '../testing/fakeClock.ts';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from '../testing/harness.ts';
import { postgresFunctionNames } from './functions.ts';
import { openPostgresLedger } from './postgresLedger.ts';

const skip = await postgresSkipReason();

describe.skipIf(skip !== null)('PostgreSQL ledger functions', () => {
  let schema: string;
  let sql: postgres.Sql;

  beforeEach(() => {
    schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    sql = postgres(testDatabaseUrl, { max: 1, connection: { search_path: schema }, onnotice: () => {} });
  });
  afterEach(async () => {
    await sql.end({ timeout: 5 });
    await dropSchema(schema);
  });

  const open = () => openPostgresLedger({ url: testDatabaseUrl, schema, createSchema: true, clock: fakeClock(0).now });

  /** Every overload of the ledger's functions in the schema: "name(args)" → oid. */
  const overloads = async () => {
    const rows = await sql`SELECT p.oid::text AS oid, p.oid::regprocedure::text AS signature FROM pg_proc p
      WHERE p.pronamespace = ${schema}::regnamespace AND p.proname = ANY (${[...postgresFunctionNames]}::text[])`;
    return new Map(rows.map((row) => [row.signature as string, row.oid as string]));
  };
  const names = (signatures: Map<string, string>) => [...signatures.keys()].map((s) => s.split('(')[0]).sort();

  it('installs each function once and leaves them untouched when a ledger opens an up-to-date schema', async () => {
    await (await open()).close();
    const first = await overloads();
    expect(names(first)).toEqual([...postgresFunctionNames].sort());
    await (await open()).close();
    expect(await overloads()).toEqual(first);
  });

  it('replaces a changed set whole, dropping overloads with an old signature', async () => {
    await (await open()).close();
    // As a schema written by an earlier version: another perdiem_reserve signature, and another digest.
    await sql`CREATE FUNCTION perdiem_reserve(p_id text) RETURNS integer LANGUAGE sql AS 'SELECT 1'`;
    await sql`UPDATE schema_functions SET digest = 'earlier'`;
    const before = await overloads();
    const ledger = await open();
    const after = await overloads();
    expect(names(after)).toEqual([...postgresFunctionNames].sort());
    expect(after.has('perdiem_reserve(text)')).toBe(false);
    for (const [signature, oid] of after) expect(before.get(signature)).not.toBe(oid);
    // The reinstalled functions work.
    const account = await ledger.createAccount();
    await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: 10n, reference: 'r' });
    const { reservation } = await ledger.reserve({
      accountId: account.id,
      keyId: null,
      idempotencyKey: 'i',
      model: 'm',
      amountNano: 4n,
    });
    expect(reservation.source).toBe('USD');
    await ledger.close();
  });

  it('finds the reservations of a batch by key, without a table scan, however much the table grew since planned', async () => {
    const ledger = await open();
    const account = await ledger.createAccount();
    await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: 100n, reference: 'r' });
    const ids: string[] = [];
    for (let n = 0; n < 10; n++) {
      const reserved = await ledger.reserve({
        accountId: account.id,
        keyId: null,
        idempotencyKey: `i${n}`,
        model: 'm',
        amountNano: 1n,
      });
      ids.push(reserved.reservation.id);
    }
    /** Voids `live` in one batch on this test's one connection, which keeps the plans it made. */
    const voidBatch = (tx: postgres.Sql | postgres.TransactionSql, live: string[]) => {
      const none = live.map(() => null);
      return tx`SELECT * FROM perdiem_batch(${live.map(() => 'V')}::text[], ${live}::text[], ${none}::text[],
        ${none}::text[], ${none}::text[], ${none}::text[], ${none}::text[], 'owner', ${none}::text[], ${none}::bigint[],
        ${none}::bigint[], ${live.map(() => '0')}::bigint[], ${none}::bigint[], ${none}::bigint[], ${none}::text[],
        ${live.map(() => 0)}::integer[], '{}'::text[], '{}'::bigint[], '{}'::bigint[], '{}'::bigint[], '{}'::bigint[],
        ${none}::integer[], ${none}::text[], ${none}::text[])`;
    };
    // The batch's statements are planned while the table is small (and the plans kept, as a server's are)...
    for (const id of ids.slice(0, 8)) await voidBatch(sql, [id]);
    // ...then it grows (history: many finished reservations) before any ANALYZE.
    await sql`INSERT INTO reservations (id, account_id, idempotency_key, model, source, epoch, month, amount_nano, status,
        created_at_ms, expires_at_ms)
      SELECT 'old' || n, ${account.id}, 'old' || n, 'm', 'USD', 0, '1970-01', 1, 'VOIDED', 0, 0
        FROM generate_series(1, 20000) n`;
    const live = ids.slice(8);
    const scans = await sql.begin(async (tx) => {
      await voidBatch(tx, live);
      return tx`SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relid = 'reservations'::regclass`;
    });
    expect(Number(scans[0]!.seq_scan)).toBe(0);
    expect(Number(scans[0]!.idx_scan)).toBeGreaterThan(0);
    const [row] = await sql`SELECT count(*)::int AS voided FROM reservations
      WHERE id = ANY (${ids}::text[]) AND status = 'VOIDED'`;
    expect(row!.voided).toBe(10);
    await ledger.close();
  });
});
