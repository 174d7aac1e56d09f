/**
 * How the follower tests open each store. SQLite: a temp file, so a test can close it and reopen the same file.
 * PostgreSQL: a schema `perdiem_test_<random>` of its own in the test database, dropped at cleanup; when
 * PostgreSQL is unreachable its suites are skipped with one printed line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openPostgresFollowerStore } from './postgresFollowerStore.ts';
import { openSqliteFollowerStore } from './sqliteFollowerStore.ts';
import type { FollowerStore } from './store.ts';

export const testDatabaseUrl = process.env.PERDIEM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One database: `open()` connects to it again (a restart); `cleanup()` removes it. */
export interface TestDatabase {
  open(): Promise<FollowerStore>;
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  name: 'sqlite' | 'postgres';
  /** Why the suite is skipped, or null when it runs. */
  skipReason: string | null;
  create(): TestDatabase;
}

export const sqliteStoreHarness: StoreHarness = {
  name: 'sqlite',
  skipReason: null,
  create() {
    const dir = mkdtempSync(path.join(tmpdir(), 'perdiem-follower-'));
    return {
      open: async () => openSqliteFollowerStore({ path: path.join(dir, 'ledger.db') }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

export async function postgresStoreHarness(): Promise<StoreHarness> {
  const skipReason = await postgresSkipReason();
  return {
    name: 'postgres',
    skipReason,
    create() {
      const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
      return {
        open: () => openPostgresFollowerStore({ url: testDatabaseUrl, schema, createSchema: true, poolMax: 2 }),
        cleanup: () => dropSchema(schema),
      };
    },
  };
}

async function postgresSkipReason(): Promise<string | null> {
  const sql = postgres(testDatabaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return null;
  } catch (error) {
    const reason = `PostgreSQL unreachable at ${testDatabaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}: skipping the PostgreSQL follower suites (${(error as Error).message})`;
    console.warn(reason);
    return reason;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
