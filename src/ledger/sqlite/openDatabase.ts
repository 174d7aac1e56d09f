/**
 * Opens a connection to a SQLite file in WAL mode, as every component sharing the ledger's file does (the ledger,
 * the chain follower, the settings store): WAL lets their connections read while one writes, and `busy_timeout`
 * makes a writer wait out another's transaction instead of failing.
 */
import { DatabaseSync } from 'node:sqlite';

export interface SqliteConnectionOptions {
  busyTimeoutMs?: number;
  /** NORMAL (default) survives process crashes; FULL also survives power loss, at a cost per commit. */
  synchronous?: 'NORMAL' | 'FULL';
}

export const busyTimeoutMsDefault = 10_000;

export function openSqliteDatabase(path: string, options: SqliteConnectionOptions = {}): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? busyTimeoutMsDefault}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
  return db;
}

/** One `BEGIN IMMEDIATE` transaction around `body`: its reads and writes see one writer at a time, across processes. */
export function immediateTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = body();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
