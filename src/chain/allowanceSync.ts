/**
 * Feeds the ledger each linked wallet's allowance for the ledger's current epoch e (from the clock), wallet by wallet
 * (`Ledger.setWalletAllowance`; the ledger sums an account's wallets):
 *   - `diem` mode: `DiemStaking.allowanceOf(wallet, e)` — the DIEM the wallet staked (DESIGN.md), minus what it
 *     allocated to other wallets for e and plus what other wallets allocated to it (`setAllocation`, effective from
 *     the next epoch: the contract fixes e's allocations when e starts, so the read needs nothing more);
 *   - `legacy` mode: a daily USD capacity split pro rata by sVVV stake, for operators who do not tokenize.
 *
 * The feed never credits more than the chain would at its latest block:
 *   - While the latest block is before e's start it credits 0: the chain is not in e yet. A read for e there is the
 *     current stake projected forward (or 0, on a contract that answers 0 for an epoch it has not reached), and an
 *     unstake in e−1's last blocks would still lower it.
 *   - diem: the lower of the reads at the confirmed block (latest − `confirmations`) and at the latest block. A stake
 *     counts once confirmed; an unstake counts at once. Near midnight the confirmed block may still be in e−1, where
 *     it misses an unstake made in e−1's last blocks; that DIEM clears its cooldown during e and may be staked by
 *     another wallet, so crediting it to the first one too would let one DIEM back $2 in e.
 *   - legacy: every wallet's share is read at one snapshot block per epoch — the first confirmed block a feed sees
 *     at or after e's start, claimed in the ledger (`claimAllowanceSnapshotBlock`: the first claim wins) and read
 *     from there by every feed, so a feed started again mid-epoch or another replica's feed reads the same block
 *     (wallets tracked later are read there too). The shares of one block sum to at most the capacity, and no unstake
 *     or sVVV transfer during e raises anyone's share in e: a stake made during an epoch counts from the next one.
 * A chain that mines only on transactions (the local anvil) stays in e−1 after midnight until one comes, which would
 * hold every allowance at 0: `advanceChain`, given only for a chain the caller runs itself, is called then (the local
 * stack mines empty blocks).
 *
 * It reads once at start; on every DiemStaking event (diem mode: a stake, an unstake, an `AllocationSet`, which names
 * the delegator and the member), for the wallets the event names — one linked through
 * another process is found in the ledger then; and on a timer, which carries the allowance across epoch boundaries
 * and picks up every wallet linked in the ledger. Wei → nano-USD and the pro-rata split round down. The ledger
 * honours a rise at once.
 *
 * When the RPC is down the ledger keeps the last allowance it was given for the epoch; a new epoch starts at 0
 * until the chain answers, because carrying a stale allowance over could let one DIEM back more than $1.
 */
import type { Address } from 'viem';
import { type Clock, epochAt } from '../core/epoch.ts';
import { diemWeiToNanoUsd, minNano } from '../core/money.ts';
import type { Ledger } from '../ledger/types.ts';
import type { PublicClient } from './clients.ts';
import type { PerdiemContracts } from './deploy.ts';
import { diemStakingAbi, stakedVvvAbi } from './generated/contracts.ts';

export interface LinkedWallet {
  accountId: string;
  address: Address;
}

export type AllocationMode = { kind: 'diem' } | { kind: 'legacy'; dailyCapacityNano: bigint };

export interface AllowanceSyncDeps {
  ledger: Ledger;
  client: PublicClient;
  contracts: Pick<PerdiemContracts, 'diemStaking' | 'stakedVvv'>;
  clock: Clock;
  epochSeconds: number;
  /** Default `{ kind: 'diem' }`. */
  allocation?: AllocationMode;
  /** Blocks a state must be buried under before it counts; default 0 (the local chain). */
  confirmations?: number;
  /**
   * Mines blocks until the head is in the current epoch and confirmed there. Only for a chain the caller runs itself
   * and that mines only on transactions (the local anvil); absent everywhere else.
   */
  advanceChain?: () => Promise<void>;
}

/** A legacy epoch's snapshot: the block every share is read at, and the total sVVV staked there. */
export interface LegacySnapshot {
  blockNumber: bigint;
  totalStakedWei: bigint;
}

/** This feed's copy of the current epoch's legacy snapshot (the ledger's block); a pending read is shared. */
export type LegacySnapshots = Map<number, Promise<LegacySnapshot | null>>;

interface Block {
  number: bigint;
  timestamp: bigint;
}

/** Reads one wallet's allowance (nano-USD) for the epoch of a sync round, at the blocks the round settled on. */
type AllowanceReader = (wallet: Address) => Promise<bigint>;

const creditsNothing: AllowanceReader = async () => 0n;

async function latestBlock(deps: AllowanceSyncDeps): Promise<Block> {
  const block = await deps.client.getBlock({ blockTag: 'latest' });
  return { number: block.number, timestamp: block.timestamp };
}

/** The latest block, after `advanceChain` when the chain has not reached the epoch. */
async function headFor(deps: AllowanceSyncDeps, epochStartSeconds: bigint): Promise<Block> {
  const latest = await latestBlock(deps);
  if (latest.timestamp >= epochStartSeconds || !deps.advanceChain) return latest;
  await deps.advanceChain();
  return latestBlock(deps);
}

function confirmedNumber(deps: AllowanceSyncDeps, latest: Block): bigint {
  const confirmations = BigInt(deps.confirmations ?? 0);
  return latest.number > confirmations ? latest.number - confirmations : 0n;
}

/**
 * diem: the lower of `allowanceOf(wallet, epoch)` at the confirmed block and at the latest one. The latest is read by
 * tag: a node behind a load balancer may not have the block number just seen, and any later block is in the epoch too.
 */
function diemReader(deps: AllowanceSyncDeps, epoch: number, latest: Block): AllowanceReader {
  const confirmed = confirmedNumber(deps, latest);
  const head = { blockTag: 'latest' } as const;
  const blocks = confirmed === latest.number ? [head] : [{ blockNumber: confirmed }, head];
  return async (wallet) => {
    const reads = await Promise.all(
      blocks.map((block) =>
        deps.client.readContract({
          address: deps.contracts.diemStaking,
          abi: diemStakingAbi,
          functionName: 'allowanceOf',
          args: [wallet, BigInt(epoch)],
          ...block,
        }),
      ),
    );
    return diemWeiToNanoUsd(reads.reduce(minNano));
  };
}

/** The first confirmed block this feed sees at or after the epoch's start, or null while there is none. */
async function firstConfirmedBlock(
  deps: AllowanceSyncDeps,
  epochStartSeconds: bigint,
  latest: Block,
): Promise<bigint | null> {
  const number = confirmedNumber(deps, latest);
  const timestamp =
    number === latest.number
      ? latest.timestamp
      : await deps.client.getBlock({ blockNumber: number }).then((block) => block.timestamp);
  return timestamp < epochStartSeconds ? null : number;
}

/**
 * The epoch's snapshot at the block stored in the ledger; when none is, this feed's first confirmed block in the
 * epoch is claimed there, and another feed's earlier claim wins. Null while there is no block to claim.
 */
async function takeSnapshot(deps: AllowanceSyncDeps, epoch: number, latest: Block): Promise<LegacySnapshot | null> {
  let blockNumber = await deps.ledger.allowanceSnapshotBlock(epoch);
  if (blockNumber === null) {
    const candidate = await firstConfirmedBlock(deps, BigInt(epoch * deps.epochSeconds), latest);
    if (candidate === null) return null;
    blockNumber = await deps.ledger.claimAllowanceSnapshotBlock(epoch, candidate);
  }
  const totalStakedWei = await deps.client.readContract({
    address: deps.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'totalStaked',
    blockNumber,
  });
  return { blockNumber, totalStakedWei };
}

function legacySnapshot(
  deps: AllowanceSyncDeps,
  snapshots: LegacySnapshots,
  epoch: number,
  latest: Block,
): Promise<LegacySnapshot | null> {
  const known = snapshots.get(epoch);
  if (known) return known;
  const pending = takeSnapshot(deps, epoch, latest);
  snapshots.clear();
  snapshots.set(epoch, pending);
  // Not in the epoch yet, or the read failed: the next round tries again.
  const forget = () => {
    if (snapshots.get(epoch) === pending) snapshots.delete(epoch);
  };
  pending.then((snapshot) => snapshot ?? forget(), forget);
  return pending;
}

/** legacy: the wallet's pro-rata share of the capacity at the epoch's snapshot block, rounded down. */
async function legacyReader(
  deps: AllowanceSyncDeps,
  capacityNano: bigint,
  snapshots: LegacySnapshots,
  epoch: number,
  latest: Block,
): Promise<AllowanceReader> {
  const snapshot = await legacySnapshot(deps, snapshots, epoch, latest);
  if (!snapshot || snapshot.totalStakedWei === 0n) return creditsNothing;
  return async (wallet) => {
    const stakedWei = await deps.client.readContract({
      address: deps.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'stakedOf',
      args: [wallet],
      blockNumber: snapshot.blockNumber,
    });
    // Rounds down: the shares of one block never add up to more than the capacity.
    return (capacityNano * stakedWei) / snapshot.totalStakedWei;
  };
}

async function allowanceReader(
  deps: AllowanceSyncDeps,
  snapshots: LegacySnapshots,
  epoch: number,
): Promise<AllowanceReader> {
  const epochStartSeconds = BigInt(epoch * deps.epochSeconds);
  const latest = await headFor(deps, epochStartSeconds);
  if (latest.timestamp < epochStartSeconds) return creditsNothing;
  const allocation = deps.allocation ?? { kind: 'diem' };
  return allocation.kind === 'diem'
    ? diemReader(deps, epoch, latest)
    : legacyReader(deps, allocation.dailyCapacityNano, snapshots, epoch, latest);
}

/**
 * Reads the wallets' allowances for the ledger's current epoch, at the same blocks, and records each. Returns the
 * nano-USD recorded, in order.
 */
export async function syncWallets(
  deps: AllowanceSyncDeps,
  wallets: readonly LinkedWallet[],
  snapshots: LegacySnapshots = new Map(),
): Promise<bigint[]> {
  const epoch = epochAt(deps.clock(), deps.epochSeconds);
  const read = await allowanceReader(deps, snapshots, epoch);
  return Promise.all(
    wallets.map(async (wallet) => {
      const allowanceNano = await read(wallet.address);
      await deps.ledger.setWalletAllowance(wallet.address, epoch, allowanceNano);
      return allowanceNano;
    }),
  );
}

/** Reads one wallet's allowance for the ledger's current epoch and records it. Returns the nano-USD recorded. */
export async function syncAllowance(
  deps: AllowanceSyncDeps,
  wallet: LinkedWallet,
  snapshots: LegacySnapshots = new Map(),
): Promise<bigint> {
  const [allowanceNano] = await syncWallets(deps, [wallet], snapshots);
  return allowanceNano!;
}

export interface AllowanceSyncStatus {
  /** False after a failed read, until the next successful one. */
  ok: boolean;
  lastSyncMs: number | null;
  lastError: string | null;
}

export interface AllowanceSync {
  /** Resolves after the first sync of every wallet. */
  ready: Promise<void>;
  /** Syncs every wallet linked in the ledger now (e.g. once more before refusing a request for lack of DIEM). */
  syncNow(): Promise<void>;
  /** Adds a wallet (e.g. one just linked) and syncs it at once. */
  track(wallet: LinkedWallet): Promise<void>;
  /** Re-reads one account's allowance now; false when the account has no tracked wallet or the chain fails. */
  refresh(accountId: string): Promise<boolean>;
  status(): AllowanceSyncStatus;
  stop(): void;
}

type NamedArgs = { account?: string; delegator?: string; member?: string };

/** The wallets a DiemStaking event names: the staker, or an allocation's delegator and member (lowercase). */
export function namedWallets(args: NamedArgs): string[] {
  return [args.account, args.delegator, args.member].flatMap((address) =>
    address === undefined ? [] : [address.toLowerCase()],
  );
}

export function startAllowanceSync(
  deps: AllowanceSyncDeps,
  wallets: LinkedWallet[],
  options: { intervalMs: number; eventPollingIntervalMs?: number; onError: (error: unknown) => void },
): AllowanceSync {
  const status: AllowanceSyncStatus = { ok: true, lastSyncMs: null, lastError: null };
  const snapshots: LegacySnapshots = new Map();
  const tracked = new Map<string, LinkedWallet>();
  const trackWallet = (wallet: LinkedWallet) => tracked.set(wallet.address.toLowerCase(), wallet);
  wallets.forEach(trackWallet);
  const sync = async (list: LinkedWallet[]) => {
    try {
      await syncWallets(deps, list, snapshots);
      Object.assign(status, { ok: true, lastSyncMs: deps.clock(), lastError: null });
    } catch (error) {
      Object.assign(status, { ok: false, lastError: (error as Error).message.split('\n')[0] ?? String(error) });
      throw error;
    }
  };
  // Wallets linked through another process (another replica, the CLI) are in the ledger, not in `tracked`.
  const syncAll = async () => {
    for (const wallet of await deps.ledger.listWallets()) {
      trackWallet({ accountId: wallet.accountId, address: wallet.address as Address });
    }
    await sync([...tracked.values()]);
  };
  const timer = setInterval(() => syncAll().catch(options.onError), options.intervalMs);
  timer.unref();
  const polling =
    options.eventPollingIntervalMs === undefined ? {} : { pollingInterval: options.eventPollingIntervalMs };
  /** The wallets a stake event names that are linked, looked up in the ledger when not tracked yet. */
  const linkedAmong = async (addresses: Set<string>) => {
    const found = await Promise.all(
      [...addresses].map(async (address) => {
        const known = tracked.get(address);
        if (known) return [known];
        const account = await deps.ledger.accountByWallet(address);
        if (!account) return [];
        const wallet = { accountId: account.id, address: address as Address };
        trackWallet(wallet);
        return [wallet];
      }),
    );
    return found.flat();
  };
  // Only diem mode watches: a DIEM stake event moves its own wallet's allowance. A legacy share is fixed for the
  // epoch at its snapshot, so a stake event there changes nothing until the next epoch, which the timer carries.
  const legacy = (deps.allocation ?? { kind: 'diem' }).kind === 'legacy';
  const unwatch = legacy
    ? () => {}
    : deps.client.watchContractEvent({
        address: deps.contracts.diemStaking,
        abi: diemStakingAbi,
        onLogs: (logs) => {
          const named = new Set(logs.flatMap((log) => namedWallets(log.args as NamedArgs)));
          linkedAmong(named)
            .then((affected) => (affected.length > 0 ? sync(affected) : undefined))
            .catch(options.onError);
        },
        onError: options.onError,
        ...polling,
      });
  return {
    ready: syncAll(),
    syncNow: syncAll,
    async track(wallet) {
      trackWallet(wallet);
      await syncWallets(deps, [wallet], snapshots);
    },
    async refresh(accountId) {
      const wallets = [...tracked.values()].filter((wallet) => wallet.accountId === accountId);
      if (wallets.length === 0) return false;
      try {
        await syncWallets(deps, wallets, snapshots);
        return true;
      } catch (error) {
        options.onError(error);
        return false;
      }
    },
    status: () => ({ ...status }),
    stop() {
      clearInterval(timer);
      unwatch();
    },
  };
}
