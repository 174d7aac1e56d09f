/**
 * The follower's store in the ledger's SQLite file, through its own `node:sqlite` connection (WAL lets it share
 * the file with the ledger). Writes run in `BEGIN IMMEDIATE` transactions; `busy_timeout` waits out the ledger's.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Hex } from 'viem';
import { applySqliteMigrations } from '../../ledger/sqlite/migrate.ts';
import { immediateTransaction, openSqliteDatabase } from '../../ledger/sqlite/openDatabase.ts';
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

/** Its own connection and migrations; the store is a plain object of small functions over prepared statements. */
export function openSqliteFollowerStore(options: SqliteFollowerStoreOptions): FollowerStore {
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs, synchronous: 'NORMAL' });
  applySqliteMigrations(db, { table: 'chain_schema_migrations', migrations: sqliteFollowerMigrations });
  const stmt = prepareStatements(db);
  return {
    cursor: async (chainId) => readCursor(stmt, chainId),
    recentBlocks: async (chainId) => readRecentBlocks(stmt, chainId),
    commit: async (batch) => immediateTransaction(db, () => commitBatch(stmt, batch)),
    rewind: async (chainId, ancestor) => immediateTransaction(db, () => rewindTo(stmt, chainId, ancestor)),
    history: async (query) => readHistory(db, query),
    close: async () => {
      if (db.isOpen) db.close();
    },
  };
}

const statements = {
  selectCursor: 'SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ?',
  insertEvent: `INSERT INTO chain_events (${eventColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO NOTHING`,
  upsertBlock: `INSERT INTO chain_blocks (chain_id, block_number, block_hash) VALUES (?, ?, ?)
     ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = excluded.block_hash`,
  pruneBlocks: 'DELETE FROM chain_blocks WHERE chain_id = ? AND block_number < ?',
  upsertCursor: `INSERT INTO chain_cursor (chain_id, block_number, block_hash) VALUES (?, ?, ?)
     ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash`,
  deleteCursor: 'DELETE FROM chain_cursor WHERE chain_id = ?',
  deleteEventsAbove: 'DELETE FROM chain_events WHERE chain_id = ? AND block_number > ?',
  deleteBlocksAbove: 'DELETE FROM chain_blocks WHERE chain_id = ? AND block_number > ?',
  selectBlocks: 'SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = ? ORDER BY block_number DESC',
} as const;

type Statements = { readonly [name in keyof typeof statements]: StatementSync };

function prepareStatements(db: DatabaseSync): Statements {
  const prepared: Record<string, StatementSync> = {};
  for (const [name, sql] of Object.entries(statements)) prepared[name] = db.prepare(sql);
  return prepared as Statements;
}

function readCursor(stmt: Statements, chainId: number): BlockRef | null {
  const row = stmt.selectCursor.get(chainId) as Row | undefined;
  return row ? { number: BigInt(row.block_number as number), hash: row.block_hash as Hex } : null;
}

function readRecentBlocks(stmt: Statements, chainId: number): BlockRef[] {
  return (stmt.selectBlocks.all(chainId) as Row[]).map((row) => ({
    number: BigInt(row.block_number as number),
    hash: row.block_hash as Hex,
  }));
}

/** Inside a transaction: the batch applies only on top of the cursor it was read from. */
function commitBatch(stmt: Statements, batch: FollowerBatch): void {
  const found = readCursor(stmt, batch.chainId);
  if (found?.hash !== batch.previous?.hash) {
    throw new FollowerCursorMovedError(batch.chainId, batch.previous?.number ?? null, found?.number ?? null);
  }
  for (const event of batch.events) insertEvent(stmt, event);
  for (const block of batch.blocks) stmt.upsertBlock.run(batch.chainId, block.number, block.hash);
  stmt.pruneBlocks.run(batch.chainId, batch.keepBlocksFrom);
  stmt.upsertCursor.run(batch.chainId, batch.cursor.number, batch.cursor.hash);
}

function insertEvent(stmt: Statements, event: FollowerBatch['events'][number]): void {
  stmt.insertEvent.run(
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

/** Inside a transaction: forgets everything above `ancestor`; returns how many events it removed. */
function rewindTo(stmt: Statements, chainId: number, ancestor: BlockRef | null): number {
  const above = ancestor?.number ?? -1n;
  const removed = Number(stmt.deleteEventsAbove.run(chainId, above).changes);
  stmt.deleteBlocksAbove.run(chainId, above);
  if (ancestor) stmt.upsertCursor.run(chainId, ancestor.number, ancestor.hash);
  else stmt.deleteCursor.run(chainId);
  return removed;
}

function readHistory(db: DatabaseSync, query: HistoryQuery): HistoryPage {
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
}
