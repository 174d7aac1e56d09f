/**
 * The one SQLite migration runner. Each component sharing the file (ledger, chain follower, settings) records its
 * applied versions in a bookkeeping table of its own, so their version numbers never collide.
 */
import type { DatabaseSync } from 'node:sqlite';
import { immediateTransaction } from './openDatabase.ts';

export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

export interface SqliteMigrationPlan {
  /** The component's bookkeeping table: `schema_migrations`, `chain_schema_migrations`, … */
  table: string;
  migrations: readonly SqliteMigration[];
  /**
   * The table has an `applied_at_ms` column (the ledger's has, recorded as 0, since its first version); the others
   * record version and name only. Existing databases keep the table they were created with.
   */
  appliedAtColumn?: boolean;
}

/**
 * Applies the migrations not yet recorded, in order, in one `BEGIN IMMEDIATE` transaction: two processes opening
 * the same file apply each migration once, and a failing migration leaves the file as it was.
 */
export function applySqliteMigrations(db: DatabaseSync, plan: SqliteMigrationPlan): number {
  const appliedAt = plan.appliedAtColumn === true;
  return immediateTransaction(db, () => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${plan.table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL` +
        `${appliedAt ? ', applied_at_ms INTEGER NOT NULL' : ''})`,
    );
    const applied = new Set(
      db
        .prepare(`SELECT version FROM ${plan.table}`)
        .all()
        .map((row) => Number(row.version)),
    );
    const record = db.prepare(
      appliedAt
        ? `INSERT INTO ${plan.table} (version, name, applied_at_ms) VALUES (?, ?, 0)`
        : `INSERT INTO ${plan.table} (version, name) VALUES (?, ?)`,
    );
    let count = 0;
    for (const migration of plan.migrations) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name);
      count++;
    }
    return count;
  });
}
