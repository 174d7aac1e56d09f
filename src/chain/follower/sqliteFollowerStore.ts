/**
 * The follower's store in the ledger's SQLite file, through its own `node:sqlite` connection (WAL lets it share
 * the file with the ledger). Writes run in `BEGIN IMMEDIATE` transactions; `busy_timeout` waits out the ledger's.
 */
import { DatabaseSync } from 'node:sqlite';
import type { Hex } from 'viem';
import { FollowerCursorMovedError } from './errors.ts';
import { sqliteFollowerMigrations } from './migrations.ts';
import {
  type BlockRef,
  detailsToJson,
  eventOf,
  type FollowerBatch,
  type FollowerStore,
  type HistoryPage,
  type HistoryQuery,
  pageOf,
  planHistory,
} from './store.ts';

export interface SqliteFollowerStoreOptions {
  /** The ledger's database file, or ":memory:" for tests. */
  path: string;
  busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

const eventColumns =
  'chain_id, block_number, block_hash, log_index, tx_hash, block_timestamp_s, contract, address, kind, account, counterparty, amount_wei, details';

export function openSqliteFollowerStore(options: SqliteFollowerStoreOptions): FollowerStore {
  const db = new DatabaseSync(options.path);
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  migrate(db);

  const transaction = <T>(body: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  };

  const selectCursor = db.prepare('SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ?');
  const readCursor = (chainId: number): BlockRef | null => {
    const row = selectCursor.get(chainId) as Row | undefined;
    return row ? { number: BigInt(row.block_number as number), hash: row.block_hash as Hex } : null;
  };
  const insertEvent = db.prepare(
    `INSERT INTO chain_events (${eventColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const upsertBlock = db.prepare(
    `INSERT INTO chain_blocks (chain_id, block_number, block_hash) VALUES (?, ?, ?)
     ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = excluded.block_hash`,
  );
  const pruneBlocks = db.prepare('DELETE FROM chain_blocks WHERE chain_id = ? AND block_number < ?');
  const upsertCursor = db.prepare(
    `INSERT INTO chain_cursor (chain_id, block_number, block_hash) VALUES (?, ?, ?)
     ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash`,
  );
  const deleteCursor = db.prepare('DELETE FROM chain_cursor WHERE chain_id = ?');
  const deleteEventsAbove = db.prepare('DELETE FROM chain_events WHERE chain_id = ? AND block_number > ?');
  const deleteBlocksAbove = db.prepare('DELETE FROM chain_blocks WHERE chain_id = ? AND block_number > ?');
  const selectBlocks = db.prepare(
    'SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = ? ORDER BY block_number DESC',
  );

  return {
    async cursor(chainId) {
      return readCursor(chainId);
    },
    async recentBlocks(chainId) {
      return (selectBlocks.all(chainId) as Row[]).map((row) => ({
        number: BigInt(row.block_number as number),
        hash: row.block_hash as Hex,
      }));
    },
    async commit(batch: FollowerBatch) {
      transaction(() => {
        const found = readCursor(batch.chainId);
        if (found?.hash !== batch.previous?.hash) {
          throw new FollowerCursorMovedError(batch.chainId, batch.previous?.number ?? null, found?.number ?? null);
        }
        for (const event of batch.events) {
          insertEvent.run(
            event.chainId,
            event.blockNumber,
            event.blockHash,
            event.logIndex,
            event.txHash,
            event.blockTimestampSeconds,
            event.contract,
            event.address,
            event.kind,
            event.account,
            event.counterparty,
            event.amountWei.toString(),
            detailsToJson(event.details),
          );
        }
        for (const block of batch.blocks) upsertBlock.run(batch.chainId, block.number, block.hash);
        pruneBlocks.run(batch.chainId, batch.keepBlocksFrom);
        upsertCursor.run(batch.chainId, batch.cursor.number, batch.cursor.hash);
      });
    },
    async rewind(chainId, ancestor) {
      return transaction(() => {
        const above = ancestor?.number ?? -1n;
        const removed = Number(deleteEventsAbove.run(chainId, above).changes);
        deleteBlocksAbove.run(chainId, above);
        if (ancestor) upsertCursor.run(chainId, ancestor.number, ancestor.hash);
        else deleteCursor.run(chainId);
        return removed;
      });
    },
    async history(query: HistoryQuery): Promise<HistoryPage> {
      const plan = planHistory(query);
      const where = ['chain_id = ?'];
      const params: (string | number | bigint)[] = [plan.chainId];
      if (plan.account) {
        where.push('(account = ? OR counterparty = ?)');
        params.push(plan.account, plan.account);
      }
      if (plan.kinds) {
        where.push(`kind IN (${plan.kinds.map(() => '?').join(', ')})`);
        params.push(...plan.kinds);
      }
      if (plan.before) {
        where.push('(block_number, log_index) < (?, ?)');
        params.push(plan.before.blockNumber, plan.before.logIndex);
      }
      const rows = db
        .prepare(
          `SELECT ${eventColumns} FROM chain_events WHERE ${where.join(' AND ')}
           ORDER BY block_number DESC, log_index DESC LIMIT ?`,
        )
        .all(...params, plan.limit + 1) as Row[];
      return pageOf(rows.map(eventOf), plan.limit);
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}

function migrate(db: DatabaseSync): void {
  db.exec('CREATE TABLE IF NOT EXISTS chain_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  for (const migration of sqliteFollowerMigrations) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const applied = db.prepare('SELECT 1 FROM chain_schema_migrations WHERE version = ?').get(migration.version);
      if (!applied) {
        db.exec(migration.sql);
        db.prepare('INSERT INTO chain_schema_migrations (version, name) VALUES (?, ?)').run(
          migration.version,
          migration.name,
        );
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
