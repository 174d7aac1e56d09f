/**
 * The embedded ledger: the four SQLite capability adapters over one storage (see sqliteStorage.ts), composed into
 * one `Ledger`.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, epochSecondsDefault } from '../../core/epoch.ts';
import { SqliteAccounts } from '../accounts/sqliteAccounts.ts';
import { SqliteAlerts } from '../alerts/sqliteAlerts.ts';
import { composeLedger } from '../composeLedger.ts';
import { SqliteFunding } from '../funding/sqliteFunding.ts';
import { SqliteMeasurements } from '../measurements/sqliteMeasurements.ts';
import { SqliteMetering } from '../metering/sqliteMetering.ts';
import { SqliteJournalWriter } from '../reporting/sqliteJournalWriter.ts';
import { SqliteReporting } from '../reporting/sqliteReporting.ts';
import { SqliteTeams } from '../teams/sqliteTeams.ts';
import type { Ledger } from '../types.ts';
import { openSqliteStorage, type SqliteStorageOptions } from './sqliteStorage.ts';

export interface SqliteLedgerOptions extends SqliteStorageOptions {
  clock: Clock;
  epochSeconds?: number;
  /** This ledger's `instanceId` (owner of the reservations it makes); default a random id. */
  instanceId?: string;
}

export function openSqliteLedger(options: SqliteLedgerOptions): Ledger {
  const storage = openSqliteStorage(options);
  const { clock } = options;
  const epochSeconds = options.epochSeconds ?? epochSecondsDefault;
  const instanceId = options.instanceId ?? randomUUID();
  const accounts = new SqliteAccounts(storage, clock, epochSeconds);
  const journal = new SqliteJournalWriter(storage);
  return composeLedger({
    adapter: 'sqlite',
    instanceId,
    accounts,
    funding: new SqliteFunding(storage, accounts, journal, clock, epochSeconds),
    metering: new SqliteMetering({ storage, accounts, journal, clock, epochSeconds, instanceId }),
    reporting: new SqliteReporting(storage),
    teams: new SqliteTeams(storage, accounts, clock, epochSeconds),
    alerts: new SqliteAlerts(storage, clock, epochSeconds),
    measurements: new SqliteMeasurements(storage),
    close: () => storage.close(),
  });
}
