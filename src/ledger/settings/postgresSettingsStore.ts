/**
 * The settings store in the ledger's PostgreSQL database and schema, shared by every replica. Appends take one
 * advisory transaction lock, so versions become visible in the order they are numbered (a replica polling
 * `since(head)` never skips one that commits late) and the conditional append's read and write are one step.
 */
import { applyPostgresMigrations } from '../postgres/migrate.ts';
import { openPostgresPool } from '../postgres/pool.ts';
import { postgresSettingsMigrations, settingsMigrationTable } from './migrations.ts';
import { assertKind, assertReadLimit, encodeRecord, isBasedOn, settingsConflict } from './records.ts';
import type { JsonValue, SettingsKind, SettingsRecord, SettingsStore } from './types.ts';

export interface PostgresSettingsStoreOptions {
  url: string;
  /** The ledger's schema (default "perdiem"); created when `createSchema` is set. */
  schema?: string;
  createSchema?: boolean;
  poolMax?: number;
}

type Row = Record<string, unknown>;

/** Serialises concurrent migrations of the settings table (the ledger and the follower use their own ids). */
const migrationLockId = 7_262_201;
/** Serialises appends (see the header). */
const appendLockId = 7_262_202;

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

export async function openPostgresSettingsStore(options: PostgresSettingsStoreOptions): Promise<SettingsStore> {
  const sql = await openPostgresPool(
    {
      url: options.url,
      schema: options.schema,
      createSchema: options.createSchema,
      poolMax: options.poolMax ?? 2,
      applicationName: 'perdiem-settings',
    },
    (pool) =>
      applyPostgresMigrations(pool, {
        table: settingsMigrationTable,
        lockId: migrationLockId,
        migrations: postgresSettingsMigrations,
      }),
  );

  // The value is read back as text (::text), exactly as written, and parsed here.
  const select = () =>
    sql`SELECT version, kind, value::text AS value, created_at_ms, actor, note FROM settings_versions`;

  return {
    async append(kind, value, meta) {
      const record = encodeRecord(kind, value, meta);
      return await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${appendLockId})`;
        const [found] = await tx`SELECT MAX(version) AS version FROM settings_versions WHERE kind = ${kind}`;
        const newest = found?.version === null || found === undefined ? null : Number(found.version);
        if (!isBasedOn(meta, newest)) throw settingsConflict(kind, meta.basedOn ?? null, newest);
        const [row] = await tx`
          INSERT INTO settings_versions (kind, value, created_at_ms, actor, note)
          VALUES (${record.kind}, ${record.valueText}::text::json, ${record.createdAtMs}, ${record.actor}, ${record.note})
          RETURNING version, kind, value::text AS value, created_at_ms, actor, note`;
        return recordOf(row!);
      });
    },
    async latest(kind) {
      assertKind(kind);
      const [row] = await sql`${select()} WHERE kind = ${kind} ORDER BY version DESC LIMIT 1`;
      return row ? recordOf(row) : null;
    },
    async history(kind, limit) {
      assertKind(kind);
      assertReadLimit(limit);
      return (await sql`${select()} WHERE kind = ${kind} ORDER BY version DESC LIMIT ${limit}`).map(recordOf);
    },
    async since(afterVersion, limit) {
      assertReadLimit(limit);
      return (await sql`${select()} WHERE version > ${afterVersion} ORDER BY version LIMIT ${limit}`).map(recordOf);
    },
    async head() {
      const [row] = await sql`SELECT COALESCE(MAX(version), 0) AS version FROM settings_versions`;
      return Number(row!.version);
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
