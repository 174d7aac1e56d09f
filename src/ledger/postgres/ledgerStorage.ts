/**
 * What every PostgreSQL capability adapter of one open ledger shares: the pool, on a schema brought up to date
 * (migrations, then the ledger functions, in one transaction under one advisory lock), the clock, the epoch length
 * and the instance id its reservations record.
 */
import type { Clock } from '../../core/epoch.ts';
import { installPostgresFunctions } from './functions.ts';
import { applyPostgresMigrations } from './migrate.ts';
import { postgresMigrations } from './migrations.ts';
import { openPostgresPool, type PostgresPoolOptions, type Sql } from './pool.ts';

export interface LedgerStorage {
  sql: Sql;
  clock: Clock;
  epochSeconds: number;
  instanceId: string;
}

/** Serialises concurrent migrations of the ledger tables (the follower and the settings use their own ids). */
const migrationLockId = 7_262_001;

export function openLedgerPool(options: PostgresPoolOptions): Promise<Sql> {
  return openPostgresPool(options, (sql) =>
    applyPostgresMigrations(sql, {
      table: 'schema_migrations',
      lockId: migrationLockId,
      migrations: postgresMigrations,
      after: installPostgresFunctions,
    }),
  );
}
