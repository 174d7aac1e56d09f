/**
 * The settings store in the ledger's SQLite file, through its own `node:sqlite` connection (WAL lets it share the
 * file with the ledger). Appends run in `BEGIN IMMEDIATE` transactions, so versions commit in order and the
 * conditional append's read and write are one step; `busy_timeout` waits out the ledger's writes.
 */
import { applySqliteMigrations } from '../sqlite/migrate.ts';
import { immediateTransaction, openSqliteDatabase } from '../sqlite/openDatabase.ts';
import { settingsMigrationTable, sqliteSettingsMigrations } from './migrations.ts';
import { assertKind, assertReadLimit, encodeRecord, isBasedOn, settingsConflict } from './records.ts';
import type { JsonValue, SettingsKind, SettingsRecord, SettingsStore } from './types.ts';

export interface SqliteSettingsStoreOptions {
  /** The ledger's database file, or ":memory:" for tests. */
  path: string;
  busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

const columns = 'version, kind, value, created_at_ms, actor, note';

function recordOf(row: Row): SettingsRecord {
  return {
    version: Number(row.version),
    kind: row.kind as SettingsKind,
    value: JSON.parse(row.value as string) as JsonValue,
    createdAtMs: Number(row.created_at_ms),
    actor: (row.actor as string | null) ?? null,
    note: (row.note as string | null) ?? null,
  };
}

export function openSqliteSettingsStore(options: SqliteSettingsStoreOptions): SettingsStore {
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs, synchronous: 'NORMAL' });
  applySqliteMigrations(db, { table: settingsMigrationTable, migrations: sqliteSettingsMigrations });

  const selectNewestOfKind = db.prepare('SELECT MAX(version) AS version FROM settings_versions WHERE kind = ?');
  const insert = db.prepare(
    `INSERT INTO settings_versions (kind, value, created_at_ms, actor, note) VALUES (?, ?, ?, ?, ?) RETURNING ${columns}`,
  );
  const selectHistory = db.prepare(
    `SELECT ${columns} FROM settings_versions WHERE kind = ? ORDER BY version DESC LIMIT ?`,
  );
  const selectSince = db.prepare(`SELECT ${columns} FROM settings_versions WHERE version > ? ORDER BY version LIMIT ?`);
  const selectHead = db.prepare('SELECT COALESCE(MAX(version), 0) AS version FROM settings_versions');

  return {
    async append(kind, value, meta) {
      const record = encodeRecord(kind, value, meta);
      return immediateTransaction(db, () => {
        const found = (selectNewestOfKind.get(kind) as Row).version;
        const newest = found === null ? null : Number(found);
        if (!isBasedOn(meta, newest)) throw settingsConflict(kind, meta.basedOn ?? null, newest);
        const row = insert.get(record.kind, record.valueText, record.createdAtMs, record.actor, record.note) as Row;
        return recordOf(row);
      });
    },
    async latest(kind) {
      assertKind(kind);
      const row = selectHistory.get(kind, 1) as Row | undefined;
      return row ? recordOf(row) : null;
    },
    async history(kind, limit) {
      assertKind(kind);
      assertReadLimit(limit);
      return (selectHistory.all(kind, limit) as Row[]).map(recordOf);
    },
    async since(afterVersion, limit) {
      assertReadLimit(limit);
      return (selectSince.all(afterVersion, limit) as Row[]).map(recordOf);
    },
    async head() {
      return Number((selectHead.get() as Row).version);
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
