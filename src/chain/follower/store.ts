/**
 * Where the follower keeps its events, its cursor and the hashes of recent blocks. Every write is one transaction,
 * so the events of a batch and the cursor that covers them are stored together or not at all: a restart resumes
 * exactly after the last committed batch.
 */
import { type Address, getAddress, type Hex } from 'viem';
import { InvalidRequestError } from '../../core/errors.ts';
import { historyPageSizeDefault, historyPageSizeMax } from '../limits.ts';
import { type ChainEvent, type ChainEventKind, chainEventKinds, type TrackedContract } from './events.ts';

export interface BlockRef {
  number: bigint;
  hash: Hex;
}

export interface FollowerBatch {
  chainId: number;
  /** The cursor this batch was read after (null before the first batch); the commit fails if it moved. */
  previous: BlockRef | null;
  /** The last block the batch covers: the new cursor. */
  cursor: BlockRef;
  events: readonly ChainEvent[];
  /** Hashes of processed blocks to remember for reorg checks (always including the cursor block). */
  blocks: readonly BlockRef[];
  /** Hashes of blocks below this are forgotten. */
  keepBlocksFrom: bigint;
}

export interface HistoryQuery {
  chainId: number;
  /** Events where this address acted or received (a transfer's sender or recipient). */
  account?: Address;
  kinds?: readonly ChainEventKind[];
  /** Default `historyPageSizeDefault`, at most `historyPageSizeMax`. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface HistoryPage {
  /** Newest first: by block number, then log index, descending. */
  events: ChainEvent[];
  nextCursor: string | null;
}

export interface FollowerStore {
  /** The last processed block, or null before the first batch. */
  cursor(chainId: number): Promise<BlockRef | null>;
  /** The remembered hashes of processed blocks, newest first. */
  recentBlocks(chainId: number): Promise<BlockRef[]>;
  /** Stores the events (ignoring ones already stored), the block hashes and the cursor, atomically. */
  commit(batch: FollowerBatch): Promise<void>;
  /**
   * Forgets everything above `ancestor` (events, block hashes) and moves the cursor back to it, atomically; null
   * forgets the whole chain. Returns how many events were removed.
   */
  rewind(chainId: number, ancestor: BlockRef | null): Promise<number>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  close(): Promise<void>;
}

/** A validated history query: the page size, the decoded position and the normalised address. */
export interface HistoryPlan {
  chainId: number;
  account: Address | null;
  kinds: readonly ChainEventKind[] | null;
  limit: number;
  /** Return events strictly before this (block number, log index). */
  before: { blockNumber: bigint; logIndex: number } | null;
}

export function planHistory(query: HistoryQuery): HistoryPlan {
  const limit = query.limit ?? historyPageSizeDefault;
  if (!Number.isInteger(limit) || limit < 1 || limit > historyPageSizeMax) {
    throw new InvalidRequestError(`limit must be an integer from 1 to ${historyPageSizeMax}`, {
      code: 'invalid_limit',
      param: 'limit',
    });
  }
  for (const kind of query.kinds ?? []) {
    if (!chainEventKinds.includes(kind)) {
      throw new InvalidRequestError(`unknown event kind: ${kind}`, { code: 'invalid_kind', param: 'kinds' });
    }
  }
  return {
    chainId: query.chainId,
    account: query.account ? normaliseAddress(query.account) : null,
    kinds: query.kinds && query.kinds.length > 0 ? query.kinds : null,
    limit,
    before: query.cursor ? decodeHistoryCursor(query.cursor) : null,
  };
}

/** A page from `limit + 1` rows: the extra row only says there is a next page. */
export function pageOf(rows: ChainEvent[], limit: number): HistoryPage {
  const events = rows.slice(0, limit);
  const last = events.at(-1);
  const nextCursor = rows.length > limit && last ? encodeHistoryCursor(last.blockNumber, last.logIndex) : null;
  return { events, nextCursor };
}

function encodeHistoryCursor(blockNumber: bigint, logIndex: number): string {
  return Buffer.from(`${blockNumber}:${logIndex}`).toString('base64url');
}

function decodeHistoryCursor(cursor: string): { blockNumber: bigint; logIndex: number } {
  const match = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new InvalidRequestError('invalid cursor', { code: 'invalid_cursor', param: 'cursor' });
  return { blockNumber: BigInt(match[1] as string), logIndex: Number(match[2]) };
}

function normaliseAddress(address: string): Address {
  try {
    return getAddress(address);
  } catch {
    throw new InvalidRequestError(`not an address: ${address}`, { code: 'invalid_address', param: 'account' });
  }
}

/** `details` as stored: JSON of decimal strings (uint256 does not fit a JSON number). */
export function detailsToJson(details: Record<string, bigint>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(details).map(([name, value]) => [name, value.toString()])));
}

export function detailsFromJson(json: string | Record<string, string>): Record<string, bigint> {
  const parsed: Record<string, string> = typeof json === 'string' ? JSON.parse(json) : json;
  return Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, BigInt(value)]));
}

/**
 * A stored event row as a ChainEvent, for both stores: block numbers and times arrive as numbers (SQLite) or
 * bigints (PostgreSQL), amounts as decimal text, details as JSON text (SQLite) or parsed jsonb (PostgreSQL).
 */
export function eventOf(row: Record<string, unknown>): ChainEvent {
  return {
    chainId: Number(row.chain_id),
    contract: row.contract as TrackedContract,
    address: row.address as Address,
    kind: row.kind as ChainEventKind,
    blockNumber: BigInt(row.block_number as bigint | number),
    blockHash: row.block_hash as Hex,
    blockTimestampSeconds: BigInt(row.block_timestamp_s as bigint | number),
    txHash: row.tx_hash as Hex,
    logIndex: Number(row.log_index),
    account: row.account as Address,
    counterparty: (row.counterparty as Address | null) ?? null,
    amountWei: BigInt(row.amount_wei as string),
    details: detailsFromJson(row.details as string | Record<string, string>),
  };
}
