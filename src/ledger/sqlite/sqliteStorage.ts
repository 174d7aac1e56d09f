/**
 * The embedded ledger's storage: one SQLite file through `node:sqlite`, WAL, prepared statements. Every write runs
 * in a `BEGIN IMMEDIATE` transaction, so writers (threads or processes sharing the file) are serialised by SQLite
 * and each operation reads and writes a consistent state. `synchronous=NORMAL` in WAL mode survives a process crash
 * (SIGKILL) without losing a committed transaction; only an OS crash or power loss may drop the last commits.
 *
 * The capability adapters share one storage: the hot path writes through its group commit (`write`), other writes
 * run at once (`tx`).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type CommitHook, GroupCommit } from './groupCommit.ts';
import { applySqliteMigrations } from './migrate.ts';
import { sqliteMigrations } from './migrations.ts';
import { openSqliteDatabase, type SqliteConnectionOptions } from './openDatabase.ts';
import { WalCheckpoints } from './walCheckpoints.ts';

export interface SqliteStorageOptions extends SqliteConnectionOptions {
  /** A file path, or ":memory:" for tests. */
  path: string;
  /** Checkpoint the WAL on a worker thread (default) instead of on the request path. */
  backgroundCheckpoints?: boolean;
  /** Background checkpoints: how often (default 200 ms). */
  checkpointIntervalMs?: number;
  /**
   * Background checkpoints: above this many WAL frames (default 4,096, 16 MiB of 4 KiB pages) the ledger holds its
   * group commits for one short checkpoint so that the WAL restarts (see checkpointWorker.ts). The WAL file is then
   * written again from its start, so it stays at its high-water mark: this many frames plus what the ledger writes
   * in one checkpoint interval. It is not truncated: truncating a large file stalled the committing thread 20 ms.
   */
  walFramesMax?: number;
}

export const sqliteStorageLimits = {
  checkpointIntervalMs: 200,
  walFramesMax: 4096,
  /** The longest the ledger holds its commits for a checkpoint to catch up, should the checkpoint thread not answer. */
  commitHoldMsMax: 1_000,
  cacheSizeKiB: 32 * 1024,
} as const;

/** A named catalog of SQL, prepared once per storage. */
export type StatementCatalog = Readonly<Record<string, string>>;
export type PreparedCatalog<C extends StatementCatalog> = { readonly [name in keyof C]: StatementSync };

export class SqliteStorage {
  readonly db: DatabaseSync;
  private readonly commits: GroupCommit;
  private readonly checkpoints: WalCheckpoints | null;

  constructor(db: DatabaseSync, commits: GroupCommit, checkpoints: WalCheckpoints | null) {
    this.db = db;
    this.commits = commits;
    this.checkpoints = checkpoints;
  }

  /** One transaction around `body`, at once: writes outside the group commit (admin operations). */
  tx<T>(body: () => T): T {
    return this.commits.tx(body);
  }

  /** A hot-path write: joins the group commit of this event-loop turn (see groupCommit.ts). */
  write<T>(body: () => T): Promise<T> {
    return this.commits.write(body);
  }

  /** Runs `hook` before every COMMIT of this storage, and its `discard` on every rollback. */
  addCommitHook(hook: CommitHook): void {
    this.commits.addHook(hook);
  }

  /** Prepares every statement of a catalog, reading integers as bigint (money columns are nano-USD). */
  prepare<C extends StatementCatalog>(catalog: C): PreparedCatalog<C> {
    const prepared: Record<string, StatementSync> = {};
    for (const [name, sql] of Object.entries(catalog)) prepared[name] = this.prepareOne(sql);
    return prepared as PreparedCatalog<C>;
  }

  prepareOne(sql: string): StatementSync {
    const statement = this.db.prepare(sql);
    statement.setReadBigInts(true);
    return statement;
  }

  async close(): Promise<void> {
    await this.checkpoints?.stop();
    if (this.db.isOpen) {
      // Operations queued before close are committed, not dropped (a flush scheduled for them finds none left).
      this.commits.flush();
      this.db.close();
    }
  }
}

export function openSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  const db = openSqliteDatabase(options.path, options);
  // The hot pages (balances, key counters, index leaves of active accounts) stay in memory between commits.
  db.exec(`PRAGMA cache_size = -${sqliteStorageLimits.cacheSizeKiB}`);
  db.exec('PRAGMA temp_store = MEMORY');
  applySqliteMigrations(db, { table: 'schema_migrations', migrations: sqliteMigrations, appliedAtColumn: true });
  const commits = new GroupCommit(db);
  const onDisk = options.path !== ':memory:' && options.path !== '';
  if (!onDisk || options.backgroundCheckpoints === false) return new SqliteStorage(db, commits, null);
  db.exec('PRAGMA wal_autocheckpoint = 0');
  const checkpoints = new WalCheckpoints(commits, {
    path: options.path,
    intervalMs: options.checkpointIntervalMs ?? sqliteStorageLimits.checkpointIntervalMs,
    walFramesMax: options.walFramesMax ?? sqliteStorageLimits.walFramesMax,
    commitHoldMsMax: sqliteStorageLimits.commitHoldMsMax,
  });
  return new SqliteStorage(db, commits, checkpoints);
}
