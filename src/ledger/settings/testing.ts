/**
 * How the settings tests open each store. Each `create()` is one database (a temp SQLite file, or a PostgreSQL schema
 * `perdiem_test_<random>` of its own); `open()` connects to it again, as a restart or a second replica does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from '../testing/harness.ts';
import { createMemorySettingsStore } from './memorySettingsStore.ts';
import { openPostgresSettingsStore } from './postgresSettingsStore.ts';
import { openSqliteSettingsStore } from './sqliteSettingsStore.ts';
import type { SettingsStore } from './types.ts';

export interface TestSettingsDatabase {
  /** Where it is, in the terms `openSettingsStoreFor` takes. */
  where: { databaseUrl: string; databaseSchema: string } | { sqlitePath: string } | null;
  open(): Promise<SettingsStore>;
  cleanup(): Promise<void>;
}

export interface SettingsHarness {
  name: 'memory' | 'sqlite' | 'postgres';
  /** Why the suite is skipped, or null when it runs. */
  skipReason: string | null;
  create(): TestSettingsDatabase;
}

/** One store shared by every `open()` (it cannot be reopened after a restart: nothing survives one). */
export const memorySettingsHarness: SettingsHarness = {
  name: 'memory',
  skipReason: null,
  create() {
    const store = createMemorySettingsStore();
    return { where: null, open: async () => ({ ...store, close: async () => {} }), cleanup: async () => {} };
  },
};

export const sqliteSettingsHarness: SettingsHarness = {
  name: 'sqlite',
  skipReason: null,
  create() {
    const dir = mkdtempSync(path.join(tmpdir(), 'perdiem-settings-'));
    const sqlitePath = path.join(dir, 'ledger.sqlite');
    return {
      where: { sqlitePath },
      open: async () => openSqliteSettingsStore({ path: sqlitePath }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

export async function postgresSettingsHarness(): Promise<SettingsHarness> {
  return {
    name: 'postgres',
    skipReason: await postgresSkipReason(),
    create() {
      const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
      return {
        where: { databaseUrl: testDatabaseUrl, databaseSchema: schema },
        open: () => openPostgresSettingsStore({ url: testDatabaseUrl, schema, createSchema: true }),
        cleanup: () => dropSchema(schema),
      };
    },
  };
}
