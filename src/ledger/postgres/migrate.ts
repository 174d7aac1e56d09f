/**
 * Applies numbered migrations once each, in order, inside one transaction under an advisory lock (replicas may start
 * together), recording them in `table`. The ledger and the chain follower each keep their own table and lock id.
 * `after` runs in the same transaction and under the same lock once the schema is current (the ledger installs its
 * functions there).
 */
import type postgres from 'postgres';
import type { Migration } from '../sqlite/migrations.ts';

export async function applyPostgresMigrations(
  sql: postgres.Sql<{ bigint: bigint }>,
  options: {
    table: string;
    lockId: number;
    migrations: readonly Migration[];
    after?: (tx: postgres.TransactionSql<{ bigint: bigint }>) => Promise<unknown>;
  },
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.table)) throw new RangeError(`invalid table name: ${options.table}`);
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${options.lockId})`;
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${options.table} (version integer PRIMARY KEY, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Set(
      (await tx.unsafe(`SELECT version FROM ${options.table}`)).map((row) => Number(row.version)),
    );
    for (const migration of options.migrations) {
      if (applied.has(migration.version)) continue;
      await tx.unsafe(migration.sql);
      await tx.unsafe(`INSERT INTO ${options.table} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await options.after?.(tx);
  });
}
