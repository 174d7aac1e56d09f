/**
 * Follows the perdiem contracts' events into the follower store with `eth_getLogs` over bounded block ranges.
 *
 * Each poll: (1) read the head; only blocks with `confirmations` on top count. (2) Reorg check: the stored hash of
 * the cursor block must still be the chain's; if not, walk back through the remembered hashes to the newest block
 * still on the chain, drop everything above it and re-follow from there. Nothing matching within `reorgDepthMax`
 * blocks raises ReorgTooDeepError. (3) Read batches of at most `logBatchBlocksMax` blocks; each batch checks its
 * logs and headers against each other (log block hash = header hash, parent hashes link up to the cursor), so a
 * reorg racing the batch is caught before anything is written; then its events, the hashes of its recent blocks
 * and the new cursor are committed in one transaction.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { BlockNotFoundError, getAddress, type Hex } from 'viem';
import type { PublicClient } from '../clients.ts';
import type { PerdiemContracts } from '../deploy.ts';
import {
  followerBlockFetchConcurrencyMax,
  followerPollIntervalMs,
  followerRetryAttemptsMax,
  logBatchBlocksMax,
  reorgDepthMax,
} from '../limits.ts';
import { FollowerCursorMovedError, ReorgTooDeepError } from './errors.ts';
import { type ChainEvent, decodeTrackedLog, type TrackedContract, trackedAbiEvents } from './events.ts';
import type { BlockRef, FollowerBatch, FollowerStore } from './store.ts';

export interface FollowerDeps {
  client: PublicClient;
  store: FollowerStore;
}

export interface FollowerConfig {
  chainId: number;
  contracts: PerdiemContracts;
  /** The first block to read (the contracts' deployment block). */
  fromBlock: bigint;
  /** Blocks on top of a block before it counts: 0 on the local chain. */
  confirmations: number;
  /** Default `reorgDepthMax` from limits.ts. */
  reorgDepthMax?: number;
  /** Default `logBatchBlocksMax` from limits.ts. */
  logBatchBlocksMax?: number;
}

export interface ReorgRepair {
  /** The cursor before the repair. */
  orphanedFrom: BlockRef;
  /** The newest block still on the chain (null: every followed block was replaced); following resumes after it. */
  ancestor: BlockRef | null;
  removedEvents: number;
}

export interface FollowResult {
  /** The last processed block after this poll. */
  cursor: BlockRef | null;
  /** The head minus confirmations at the start of the poll. */
  confirmedHead: bigint;
  eventsAdded: number;
  reorgs: ReorgRepair[];
}

interface Header {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  timestamp: bigint;
}

/** Brings the store up to the confirmed head once. Throws ReorgTooDeepError on a reorg it must not repair. */
export async function followOnce(deps: FollowerDeps, config: FollowerConfig): Promise<FollowResult> {
  const limits = limitsOf(config);
  const head = await deps.client.getBlockNumber({ cacheTime: 0 });
  const confirmedHead = head - BigInt(config.confirmations);
  const result: FollowResult = { cursor: null, confirmedHead, eventsAdded: 0, reorgs: [] };
  let cursor = await deps.store.cursor(config.chainId);
  let raced = 0;
  for (;;) {
    const repair = await repairReorg(deps, config, cursor);
    if (repair) {
      result.reorgs.push(repair);
      cursor = repair.ancestor;
    }
    const from = cursor ? cursor.number + 1n : config.fromBlock;
    if (from > confirmedHead) break;
    const to = min(from + BigInt(limits.logBatchBlocksMax) - 1n, confirmedHead);
    const batch = await readBatch(deps, config, { cursor, from, to, confirmedHead });
    if (!batch) {
      // The chain changed while the batch was read: check for a reorg again before retrying.
      raced += 1;
      if (raced > followerRetryAttemptsMax) {
        throw new Error(`chain ${config.chainId}: blocks kept changing under ${raced} batch reads in a row`);
      }
      continue;
    }
    await deps.store.commit(batch);
    result.eventsAdded += batch.events.length;
    cursor = batch.cursor;
  }
  result.cursor = cursor;
  return result;
}

/** Null when the cursor block is still on the chain; otherwise rewinds the store to the common ancestor. */
async function repairReorg(
  deps: FollowerDeps,
  config: FollowerConfig,
  cursor: BlockRef | null,
): Promise<ReorgRepair | null> {
  if (!cursor) return null;
  if ((await hashAt(deps.client, cursor.number)) === cursor.hash) return null;
  const depthMax = BigInt(limitsOf(config).reorgDepthMax);
  let ancestor: BlockRef | null = null;
  let checkedDownTo = cursor.number;
  for (const block of await deps.store.recentBlocks(config.chainId)) {
    if (block.number >= cursor.number) continue;
    if (cursor.number - block.number > depthMax) break;
    checkedDownTo = block.number;
    if ((await hashAt(deps.client, block.number)) === block.hash) {
      ancestor = block;
      break;
    }
  }
  // With no block left in common, re-following from scratch is a repair only if every followed block is within
  // the depth (the remembered hashes then cover them all).
  const followedBlocks = cursor.number - config.fromBlock + 1n;
  if (!ancestor && followedBlocks > depthMax) {
    throw new ReorgTooDeepError({
      chainId: config.chainId,
      cursorBlock: cursor.number,
      checkedDownToBlock: checkedDownTo,
      reorgDepthMax: Number(depthMax),
    });
  }
  const removedEvents = await deps.store.rewind(config.chainId, ancestor);
  return { orphanedFrom: cursor, ancestor, removedEvents };
}

/** Reads one batch and checks it is one consistent chain; null when a reorg raced the reads. */
async function readBatch(
  deps: FollowerDeps,
  config: FollowerConfig,
  range: { cursor: BlockRef | null; from: bigint; to: bigint; confirmedHead: bigint },
): Promise<FollowerBatch | null> {
  const { cursor, from, to, confirmedHead } = range;
  const depthMax = BigInt(limitsOf(config).reorgDepthMax);
  const byAddress = new Map(
    (Object.entries(config.contracts) as [TrackedContract, Hex][]).map(([name, address]) => [
      address.toLowerCase(),
      name,
    ]),
  );
  const logs = await deps.client.getLogs({
    address: Object.values(config.contracts),
    events: trackedAbiEvents(),
    fromBlock: from,
    toBlock: to,
  });

  // Headers: the batch ends, every block with events, and the blocks a later reorg check may need (those within
  // the reorg depth of the confirmed head). Far behind the head, only the ends are remembered.
  const numbers = new Set<bigint>([from, to]);
  for (const log of logs) numbers.add(log.blockNumber);
  const windowFrom = max(from, to - depthMax, confirmedHead - depthMax);
  for (let n = windowFrom; n <= to; n++) numbers.add(n);
  const headers = await fetchHeaders(deps.client, [...numbers]);
  if (!headers) return null;

  const first = headers.get(from);
  if (cursor && first?.parentHash !== cursor.hash) return null;
  for (const header of headers.values()) {
    const parent = headers.get(header.number - 1n);
    if (parent && parent.hash !== header.parentHash) return null;
  }

  const events: ChainEvent[] = [];
  for (const log of logs) {
    const header = headers.get(log.blockNumber);
    if (!header || header.hash !== log.blockHash) return null;
    const contract = byAddress.get(log.address.toLowerCase());
    const decoded = contract ? decodeTrackedLog(contract, log) : null;
    if (!decoded) continue;
    events.push({
      chainId: config.chainId,
      address: getAddress(log.address),
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      blockTimestampSeconds: header.timestamp,
      txHash: log.transactionHash,
      logIndex: log.logIndex,
      ...decoded,
    });
  }
  const last = headers.get(to) as Header;
  const remembered = [...headers.values()].filter((header) => header.number >= windowFrom || header.number === to);
  return {
    chainId: config.chainId,
    previous: cursor,
    cursor: { number: to, hash: last.hash },
    events,
    blocks: remembered.map((header) => ({ number: header.number, hash: header.hash })),
    keepBlocksFrom: to - depthMax,
  };
}

/** Headers by number; null if one is missing (the chain got shorter since the head was read). */
async function fetchHeaders(client: PublicClient, numbers: bigint[]): Promise<Map<bigint, Header> | null> {
  const headers = new Map<bigint, Header>();
  const queue = [...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let missing = false;
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined && !missing; n = queue.shift()) {
      const block = await getBlockOrNull(client, n);
      if (!block) {
        missing = true;
        return;
      }
      headers.set(n, block);
    }
  };
  await Promise.all(Array.from({ length: Math.min(followerBlockFetchConcurrencyMax, queue.length) }, worker));
  return missing ? null : headers;
}

async function hashAt(client: PublicClient, blockNumber: bigint): Promise<Hex | null> {
  return (await getBlockOrNull(client, blockNumber))?.hash ?? null;
}

async function getBlockOrNull(client: PublicClient, blockNumber: bigint): Promise<Header | null> {
  try {
    const block = await client.getBlock({ blockNumber, includeTransactions: false });
    return { number: blockNumber, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp };
  } catch (error) {
    if (error instanceof BlockNotFoundError) return null;
    throw error;
  }
}

function limitsOf(config: FollowerConfig) {
  const limits = {
    reorgDepthMax: config.reorgDepthMax ?? reorgDepthMax,
    logBatchBlocksMax: config.logBatchBlocksMax ?? logBatchBlocksMax,
  };
  if (!Number.isInteger(limits.reorgDepthMax) || limits.reorgDepthMax < 1) {
    throw new RangeError(`reorgDepthMax must be a positive integer, not ${limits.reorgDepthMax}`);
  }
  if (!Number.isInteger(limits.logBatchBlocksMax) || limits.logBatchBlocksMax < 1) {
    throw new RangeError(`logBatchBlocksMax must be a positive integer, not ${limits.logBatchBlocksMax}`);
  }
  if (!Number.isInteger(config.confirmations) || config.confirmations < 0) {
    throw new RangeError(`confirmations must be a non-negative integer, not ${config.confirmations}`);
  }
  return limits;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
/** Math.max does not take bigints. */
function max(...values: bigint[]): bigint {
  let largest = values[0] as bigint;
  for (const value of values) if (value > largest) largest = value;
  return largest;
}

export interface StartFollowerOptions extends FollowerConfig {
  /** Default `followerPollIntervalMs` from limits.ts. */
  pollIntervalMs?: number;
  /** Called after every poll (progress, metrics, allowance refresh on stake events). */
  onPoll?: (result: FollowResult) => void;
  /** A poll failed and will be retried (an RPC or database hiccup). Errors that stop the follower reject `done`. */
  onError?: (error: unknown) => void;
}

export interface Follower {
  /** Resolves when `stop()` ends the loop; rejects with the error that stopped the follower (ReorgTooDeepError). */
  done: Promise<void>;
  /** Ends the loop after the current poll and waits for it. */
  stop(): Promise<void>;
}

/** Waits `ms`, or less if the signal aborts (then resolves). Injected so tests can drive time. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

const defaultSleep: Sleep = (ms, signal) => sleepMs(ms, undefined, { signal }).catch(() => undefined);

/** Polls `followOnce` until stopped. A typed non-retryable error (a reorg too deep) stops it loudly. */
export function startFollower(deps: FollowerDeps & { sleep?: Sleep }, options: StartFollowerOptions): Follower {
  const abort = new AbortController();
  const sleep = deps.sleep ?? defaultSleep;
  const intervalMs = options.pollIntervalMs ?? followerPollIntervalMs;
  const loop = async () => {
    // Configuration mistakes are programmer errors: they end the loop instead of retrying forever.
    limitsOf(options);
    const chainId = await deps.client.getChainId();
    if (chainId !== options.chainId) {
      throw new RangeError(`the RPC serves chain ${chainId}, the follower is configured for chain ${options.chainId}`);
    }
    while (!abort.signal.aborted) {
      try {
        // Not `onPoll?.(await followOnce(…))`: an absent onPoll would skip the poll itself.
        const result = await followOnce(deps, options);
        options.onPoll?.(result);
      } catch (error) {
        if (error instanceof ReorgTooDeepError || error instanceof FollowerCursorMovedError) throw error;
        options.onError?.(error);
      }
      if (!abort.signal.aborted) await sleep(intervalMs, abort.signal);
    }
  };
  const done = loop();
  return {
    done,
    async stop() {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}
