/** Opens the settings store where the ledger is: the PostgreSQL schema when a URL is given, else the SQLite file. */
import { openPostgresSettingsStore } from './postgresSettingsStore.ts';
import { openSqliteSettingsStore } from './sqliteSettingsStore.ts';
import type { SettingsStore } from './types.ts';

export interface SettingsStoreLocation {
  /** The ledger's PostgreSQL URL; when set, `databaseSchema` is used and `sqlitePath` is not. */
  databaseUrl?: string | undefined;
  /** The ledger's schema (created when missing). */
  databaseSchema?: string | undefined;
  /** The ledger's SQLite file. */
  sqlitePath: string;
}

export async function openSettingsStore(where: SettingsStoreLocation): Promise<SettingsStore> {
  if (where.databaseUrl) {
    return await openPostgresSettingsStore({
      url: where.databaseUrl,
      ...(where.databaseSchema ? { schema: where.databaseSchema } : {}),
      createSchema: true,
    });
  }
  return openSqliteSettingsStore({ path: where.sqlitePath });
}
