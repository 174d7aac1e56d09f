/**
 * The follower's store in the ledger's PostgreSQL database and schema, through the `postgres` package. Each write
 * is one transaction; the cursor row is locked (`FOR UPDATE`) so two followers on one chain cannot interleave.
 */
import postgres from 'postgres';
import type { Hex } from 'viem';
import { applyPostgresMigrations } from '../../ledger/postgres/migrate.ts';
import { FollowerCursorMovedError } from './errors.ts';
import type { ChainEventKind } from './events.ts';
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

type Sql = postgres.Sql<{ bigint: bigint }>;

/** Serialises concurrent migrations of the follower tables (the ledger uses its own lock id). */
const migrationLockId = 7_262_101;

export async function openPostgresFollowerStore(options: PostgresFollowerStoreOptions): Promise<FollowerStore> {
  const schema = options.schema ?? 'perdiem';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`invalid schema name: ${schema}`);
  const sql = postgres(options.url, {
    max: options.poolMax ?? 4,
    types: { bigint: postgres.BigInt },
    connection: { search_path: schema, application_name: 'perdiem-chain-follower' },
    onnotice: () => {},
  }) as unknown as Sql;
  try {
    if (options.createSchema) await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await applyPostgresMigrations(sql, {
      table: 'chain_schema_migrations',
      lockId: migrationLockId,
      migrations: postgresFollowerMigrations,
    });
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }

  const readCursor = async (tx: Sql | postgres.TransactionSql<{ bigint: bigint }>, chainId: number, lock: boolean) => {
    const rows = lock
      ? await tx`SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ${chainId} FOR UPDATE`
      : await tx`SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ${chainId}`;
    const row = rows[0];
    return row ? { number: BigInt(row.block_number), hash: row.block_hash as Hex } : null;
  };

  return {
    cursor: (chainId) => readCursor(sql, chainId, false),
    async recentBlocks(chainId) {
      const rows = await sql`SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = ${chainId}
        ORDER BY block_number DESC`;
      return rows.map((row) => ({ number: BigInt(row.block_number), hash: row.block_hash as Hex }));
    },
    async commit(batch: FollowerBatch) {
      await sql.begin(async (tx) => {
        // A first commit has no cursor row to lock; the primary key then stops a racing first commit.
        const found = await readCursor(tx, batch.chainId, true);
        if (found?.hash !== batch.previous?.hash) {
          throw new FollowerCursorMovedError(batch.chainId, batch.previous?.number ?? null, found?.number ?? null);
        }
        for (const event of batch.events) {
          await tx`INSERT INTO chain_events (chain_id, block_number, block_hash, log_index, tx_hash,
              block_timestamp_s, contract, address, kind, account, counterparty, amount_wei, details)
            VALUES (${event.chainId}, ${event.blockNumber}, ${event.blockHash}, ${event.logIndex}, ${event.txHash},
              ${event.blockTimestampSeconds}, ${event.contract}, ${event.address}, ${event.kind}, ${event.account},
              ${event.counterparty}, ${event.amountWei.toString()}::numeric, ${detailsToJson(event.details)}::jsonb)
            ON CONFLICT DO NOTHING`;
        }
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
    },
    async rewind(chainId, ancestor: BlockRef | null) {
      return sql.begin(async (tx) => {
        const above = ancestor?.number ?? -1n;
        await readCursor(tx, chainId, true);
        const removed = await tx`DELETE FROM chain_events WHERE chain_id = ${chainId} AND block_number > ${above}`;
        await tx`DELETE FROM chain_blocks WHERE chain_id = ${chainId} AND block_number > ${above}`;
        if (ancestor) {
          await tx`INSERT INTO chain_cursor (chain_id, block_number, block_hash)
            VALUES (${chainId}, ${ancestor.number}, ${ancestor.hash})
            ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number,
              block_hash = excluded.block_hash`;
        } else {
          await tx`DELETE FROM chain_cursor WHERE chain_id = ${chainId}`;
        }
        return removed.count;
      });
    },
    async history(query: HistoryQuery): Promise<HistoryPage> {
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
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
