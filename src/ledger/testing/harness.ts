/**
 * How tests open each adapter. SQLite: a fresh in-memory (or temp-file) database. PostgreSQL: a fresh schema
 * `perdiem_test_<random>` in the shared test database, dropped on close, so concurrent test runs never meet.
 * When PostgreSQL is unreachable, its suites are skipped with a clear line in the output.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Clock } from '../../core/epoch.ts';
import { composeLedger } from '../composeLedger.ts';
import { openPostgresLedger, type PostgresLedgerOptions } from '../postgres/postgresLedger.ts';
import { openSqliteLedger } from '../sqlite/sqliteLedger.ts';
import type { Ledger } from '../types.ts';

export const testDatabaseUrl = process.env.PERDIEM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface HarnessOptions {
  epochSeconds?: number;
  poolMax?: number;
  instanceId?: string;
}

export interface LedgerHarness {
  name: 'sqlite' | 'postgres';
  /** Why the suite is skipped, or null when it runs. */
  skipReason: string | null;
  open(clock: Clock, options?: HarnessOptions): Promise<Ledger>;
  /**
   * One ledger per instance id, all over the same database (as replicas, or a restarted process, see it). The
   * database is removed once every one of them is closed.
   */
  openPeers(clock: Clock, instanceIds: string[]): Promise<Ledger[]>;
}

export const sqliteHarness: LedgerHarness = {
  name: 'sqlite',
  skipReason: null,
  open: async (clock, options = {}) => openSqliteLedger({ path: ':memory:', clock, ...options }),
  openPeers: async (clock, instanceIds) => {
    const directory = mkdtempSync(join(tmpdir(), 'perdiem-peers-'));
    const path = join(directory, 'ledger.sqlite');
    const ledgers = instanceIds.map((instanceId) =>
      openSqliteLedger({ path, clock, instanceId, backgroundCheckpoints: false }),
    );
    return removeWhenAllClosed(ledgers, async () => rmSync(directory, { recursive: true, force: true }));
  },
};

/** Wraps each ledger's close so that `cleanUp` runs after the last one closes. */
function removeWhenAllClosed(ledgers: Ledger[], cleanUp: () => Promise<void>): Ledger[] {
  let open = ledgers.length;
  return ledgers.map((ledger) => {
    let closed = false;
    return withClose(ledger, async () => {
      if (closed) return;
      closed = true;
      await ledger.close();
      open -= 1;
      if (open === 0) await cleanUp();
    });
  });
}

/** The same ledger with another `close`: a composed ledger is frozen, so it is composed again around the first. */
function withClose(ledger: Ledger, close: () => Promise<void>): Ledger {
  const { adapter, instanceId } = ledger;
  return composeLedger({
    adapter,
    instanceId,
    accounts: ledger,
    funding: ledger,
    metering: ledger,
    reporting: ledger,
    teams: ledger,
    alerts: ledger,
    measurements: ledger,
    close,
  });
}

let reachable: Promise<string | null> | null = null;

/** Null when PostgreSQL answers, else the reason (printed once). */
export function postgresSkipReason(): Promise<string | null> {
  reachable ??= (async () => {
    const sql = postgres(testDatabaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await sql`select 1`;
      return null;
    } catch (error) {
      const reason = `PostgreSQL unreachable at ${redact(testDatabaseUrl)}: skipping the PostgreSQL ledger suites (${(error as Error).message})`;
      console.warn(reason);
      return reason;
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return reachable;
}

export async function postgresHarness(): Promise<LedgerHarness> {
  return {
    name: 'postgres',
    skipReason: await postgresSkipReason(),
    open: (clock, options = {}) => openTestPostgresLedger({ clock, ...options }),
    openPeers: async (clock, instanceIds) => {
      const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
      const ledgers: Ledger[] = [];
      // One at a time: the first creates the schema, the others find it.
      for (const instanceId of instanceIds) {
        const options = { clock, instanceId };
        ledgers.push(await openPostgresLedger({ ...options, url: testDatabaseUrl, schema, createSchema: true }));
      }
      return removeWhenAllClosed(ledgers, () => dropSchema(schema));
    },
  };
}

/** A ledger in a schema of its own; closing it drops the schema. */
export async function openTestPostgresLedger(
  options: Omit<PostgresLedgerOptions, 'url' | 'schema'> & { schema?: string; instanceId?: string },
): Promise<Ledger> {
  const schema = options.schema ?? `perdiem_test_${randomBytes(6).toString('hex')}`;
  const ledger = await openPostgresLedger({ ...options, url: testDatabaseUrl, schema, createSchema: true });
  return withClose(ledger, async () => {
    await ledger.close();
    await dropSchema(schema);
  });
}

export async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
