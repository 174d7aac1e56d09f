/**
 * The follower's store in the ledger's PostgreSQL database and schema, through the `postgres` package. Each write
 * is one transaction; the cursor row is locked (`FOR UPDATE`) so two followers on one chain cannot interleave. The
 * store is a plain object of small functions over one pool (tests wrap single methods of it).
 */
import type { Hex } from 'viem';
import { applyPostgresMigrations } from '../../ledger/postgres/migrate.ts';
import { openPostgresPool, type Sql, type TransactionSql } from '../../ledger/postgres/pool.ts';
import { FollowerCursorMovedError } from './errors.ts';
import type { ChainEvent, ChainEventKind } from './events.ts';
import { postgresFollowerMigrations } from './migrations.ts';
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

export interface PostgresFollowerStoreOptions {
  url: string;
  /** The ledger's schema (default "perdiem"); created when `createSchema` is set. */
  schema?: string;
  createSchema?: boolean;
  poolMax?: number;
}

/** Serialises concurrent migrations of the follower tables (the ledger uses its own lock id). */
const migrationLockId = 7_262_101;

export async function openPostgresFollowerStore(options: PostgresFollowerStoreOptions): Promise<FollowerStore> {
  const sql = await openPostgresPool(
    {
      url: options.url,
      schema: options.schema,
      createSchema: options.createSchema,
      poolMax: options.poolMax ?? 4,
      applicationName: 'perdiem-chain-follower',
    },
    (pool) =>
      applyPostgresMigrations(pool, {
        table: 'chain_schema_migrations',
        lockId: migrationLockId,
        migrations: postgresFollowerMigrations,
      }),
  );
  return {
    cursor: (chainId) => readCursor(sql, chainId, false),
    recentBlocks: (chainId) => recentBlocks(sql, chainId),
    commit: (batch) => commit(sql, batch),
    rewind: (chainId, ancestor) => rewind(sql, chainId, ancestor),
    history: (query) => history(sql, query),
    close: () => sql.end({ timeout: 5 }),
  };
}

async function recentBlocks(sql: Sql, chainId: number): Promise<BlockRef[]> {
  const rows = await sql`SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = ${chainId}
    ORDER BY block_number DESC`;
  return rows.map((row) => ({ number: BigInt(row.block_number), hash: row.block_hash as Hex }));
}

async function commit(sql: Sql, batch: FollowerBatch): Promise<void> {
  await sql.begin(async (tx) => {
    // A first commit has no cursor row to lock; the primary key then stops a racing first commit.
    const found = await readCursor(tx, batch.chainId, true);
    if (found?.hash !== batch.previous?.hash) {
      throw new FollowerCursorMovedError(batch.chainId, batch.previous?.number ?? null, found?.number ?? null);
    }
    for (const event of batch.events) await insertEvent(tx, event);
    for (const block of batch.blocks) {
      await tx`INSERT INTO chain_blocks (chain_id, block_number, block_hash)
        VALUES (${batch.chainId}, ${block.number}, ${block.hash})
        ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = excluded.block_hash`;
    }
    await tx`DELETE FROM chain_blocks WHERE chain_id = ${batch.chainId} AND block_number < ${batch.keepBlocksFrom}`;
    if (found) {
      await tx`UPDATE chain_cursor SET block_number = ${batch.cursor.number}, block_hash = ${batch.cursor.hash}
        WHERE chain_id = ${batch.chainId}`;
    } else {
      await tx`INSERT INTO chain_cursor (chain_id, block_number, block_hash)
        VALUES (${batch.chainId}, ${batch.cursor.number}, ${batch.cursor.hash})`;
    }
  });
}

function rewind(sql: Sql, chainId: number, ancestor: BlockRef | null): Promise<number> {
  return sql.begin(async (tx) => {
    const above = ancestor?.number ?? -1n;
    await readCursor(tx, chainId, true);
    const removed = await tx`DELETE FROM chain_events WHERE chain_id = ${chainId} AND block_number > ${above}`;
    await tx`DELETE FROM chain_blocks WHERE chain_id = ${chainId} AND block_number > ${above}`;
    if (ancestor) {
      await tx`INSERT INTO chain_cursor (chain_id, block_number, block_hash)
        VALUES (${chainId}, ${ancestor.number}, ${ancestor.hash})
        ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash`;
    } else {
      await tx`DELETE FROM chain_cursor WHERE chain_id = ${chainId}`;
    }
    return removed.count;
  }) as Promise<number>;
}

async function history(sql: Sql, query: HistoryQuery): Promise<HistoryPage> {
  const plan = planHistory(query);
  const empty = sql``;
  const rows = await sql`SELECT chain_id, block_number, block_hash, log_index, tx_hash, block_timestamp_s,
      contract, address, kind, account, counterparty, amount_wei::text AS amount_wei, details
    FROM chain_events
    WHERE chain_id = ${plan.chainId}
      ${plan.account ? sql`AND (account = ${plan.account} OR counterparty = ${plan.account})` : empty}
      ${plan.kinds ? sql`AND kind IN ${sql(plan.kinds as ChainEventKind[])}` : empty}
      ${plan.before ? sql`AND (block_number, log_index) < (${plan.before.blockNumber}, ${plan.before.logIndex})` : empty}
    ORDER BY block_number DESC, log_index DESC
    LIMIT ${plan.limit + 1}`;
  return pageOf(rows.map(eventOf), plan.limit);
}

async function readCursor(tx: Sql | TransactionSql, chainId: number, lock: boolean): Promise<BlockRef | null> {
  const rows = lock
    ? await tx`SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ${chainId} FOR UPDATE`
    : await tx`SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ${chainId}`;
  const row = rows[0];
  return row ? { number: BigInt(row.block_number), hash: row.block_hash as Hex } : null;
}

async function insertEvent(tx: TransactionSql, event: ChainEvent): Promise<void> {
  await tx`INSERT INTO chain_events (chain_id, block_number, block_hash, log_index, tx_hash,
      block_timestamp_s, contract, address, kind, account, counterparty, amount_wei, details)
    VALUES (${event.chainId}, ${event.blockNumber}, ${event.blockHash}, ${event.logIndex}, ${event.txHash},
      ${event.blockTimestampSeconds}, ${event.contract}, ${event.address}, ${event.kind}, ${event.account},
      ${event.counterparty}, ${event.amountWei.toString()}::numeric, ${detailsToJson(event.details)}::jsonb)
    ON CONFLICT DO NOTHING`;
}
