/**
 * The scale-out ledger: PostgreSQL through the `postgres` package, shared by any number of gateway replicas. It opens
 * the storage (pool.ts, ledgerStorage.ts: migrations, then the ledger functions of functions.ts) and composes one
 * adapter per capability: accounts/, funding/, metering/ (the hot path, with group commit) and reporting/.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, epochSecondsDefault } from '../../core/epoch.ts';
import { PostgresAccounts } from '../accounts/postgresAccounts.ts';
import { PostgresAlerts } from '../alerts/postgresAlerts.ts';
import { composeLedger } from '../composeLedger.ts';
import { PostgresFunding } from '../funding/postgresFunding.ts';
import { PostgresMeasurements } from '../measurements/postgresMeasurements.ts';
import { PostgresMetering } from '../metering/postgresMetering.ts';
import { PostgresReporting } from '../reporting/postgresReporting.ts';
import { PostgresTeams } from '../teams/postgresTeams.ts';
import type { Ledger } from '../types.ts';
import { type LedgerStorage, openLedgerPool } from './ledgerStorage.ts';

export interface PostgresLedgerOptions {
  url: string;
  /** Tables and functions live in this schema (default "perdiem"); it is created when `createSchema` is set. */
  schema?: string;
  createSchema?: boolean;
  clock: Clock;
  epochSeconds?: number;
  /** Connection pool size. */
  poolMax?: number;
  /** Shown in pg_stat_activity, to tell replicas apart. */
  applicationName?: string;
  /**
   * Durability of the metering hot path (reserve, settle, void, expire). 'on' (default) waits for the WAL flush of
   * every commit. 'off' returns before it: a crash of the database server (not of a gateway) may then lose the last
   * few hundred milliseconds of metering — settles fall back to their reservations, which expire uncharged, so the
   * loss is the operator's, and an account is never charged twice or left with stranded funds. Money coming in
   * (funding, allowances) always commits synchronously.
   */
  synchronousCommit?: 'on' | 'off';
  /** This ledger's `instanceId` (the owner of the reservations it makes); default a random id. */
  instanceId?: string;
}

export async function openPostgresLedger(options: PostgresLedgerOptions): Promise<Ledger> {
  const sql = await openLedgerPool({
    url: options.url,
    schema: options.schema,
    createSchema: options.createSchema,
    poolMax: options.poolMax ?? 10,
    applicationName: options.applicationName ?? 'perdiem-ledger',
    synchronousCommit: options.synchronousCommit ?? 'on',
  });
  const storage: LedgerStorage = {
    sql,
    clock: options.clock,
    epochSeconds: options.epochSeconds ?? epochSecondsDefault,
    instanceId: options.instanceId ?? randomUUID(),
  };
  return composeLedger({
    adapter: 'postgres',
    instanceId: storage.instanceId,
    accounts: new PostgresAccounts(storage),
    funding: new PostgresFunding(storage),
    metering: new PostgresMetering(storage),
    reporting: new PostgresReporting(storage),
    teams: new PostgresTeams(storage),
    alerts: new PostgresAlerts(storage),
    measurements: new PostgresMeasurements(storage),
    close: () => sql.end({ timeout: 5 }),
  });
}
