/**
 * The settings table, beside the ledger's in the same database, with its own migration record
 * (`settings_schema_migrations`, not the ledger's `schema_migrations`). Never edit an applied migration: add one.
 * Values are kept as the JSON text that was written (PostgreSQL `json`, not `jsonb`, keeps it verbatim).
 */
import type { Migration } from '../sqlite/migrations.ts';

export const settingsMigrationTable = 'settings_schema_migrations';

export const sqliteSettingsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'versioned operator settings',
    sql: `
CREATE TABLE IF NOT EXISTS settings_versions (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  actor TEXT,
  note TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS settings_versions_kind ON settings_versions (kind, version);
`,
  },
];

export const postgresSettingsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'versioned operator settings',
    sql: `
CREATE TABLE IF NOT EXISTS settings_versions (
  version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL,
  value JSON NOT NULL,
  created_at_ms BIGINT NOT NULL,
  actor TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS settings_versions_kind ON settings_versions (kind, version);
`,
  },
];
