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
});
