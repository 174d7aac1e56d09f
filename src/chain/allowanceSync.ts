/**
 * Feeds the ledger each linked wallet's daily allowance for the ledger's current epoch:
 *   - `diem` mode: `DiemStaking.allowanceOf(wallet, epoch)` — the DIEM the wallet staked (DESIGN.md);
 *   - `legacy` mode: a daily USD capacity split pro rata by sVVV stake, for operators who do not tokenize.
 * It reads once at start, on every stake event (DIEM staking's in diem mode, for the accounts it names; sVVV's in
 * legacy mode, for every wallet) and on a timer that also carries the allowance across epoch boundaries. Only blocks
 * with `confirmations` confirmations count. Wei → nano-USD and the pro-rata split round down. The ledger honours a
 * rise at once.
 *
 * When the RPC is down the ledger keeps the last allowance it was given for the epoch; a new epoch starts at 0
 * until the chain answers, because carrying a stale allowance over could let one DIEM back more than $1.
 */
import type { Address } from 'viem';
import { type Clock, epochAt } from '../core/epoch.ts';
import { diemWeiToNanoUsd } from '../core/money.ts';
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
}

async function confirmedBlock(deps: AllowanceSyncDeps): Promise<bigint | undefined> {
  const confirmations = BigInt(deps.confirmations ?? 0);
  if (confirmations === 0n) return undefined;
  const head = await deps.client.getBlockNumber({ cacheTime: 0 });
  return head > confirmations ? head - confirmations : 0n;
}

async function allowanceNanoOf(deps: AllowanceSyncDeps, wallet: Address, epoch: number): Promise<bigint> {
  const blockNumber = await confirmedBlock(deps);
  const at = blockNumber === undefined ? {} : { blockNumber };
  const allocation = deps.allocation ?? { kind: 'diem' };
  if (allocation.kind === 'diem') {
    const allowanceWei = await deps.client.readContract({
      address: deps.contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'allowanceOf',
      args: [wallet, BigInt(epoch)],
      ...at,
    });
    return diemWeiToNanoUsd(allowanceWei);
  }
  const address = deps.contracts.stakedVvv;
  const [stakedWei, totalWei] = await Promise.all([
    deps.client.readContract({ address, abi: stakedVvvAbi, functionName: 'stakedOf', args: [wallet], ...at }),
    deps.client.readContract({ address, abi: stakedVvvAbi, functionName: 'totalStaked', ...at }),
  ]);
  // Rounds down: the shares never add up to more than the capacity.
  return totalWei === 0n ? 0n : (allocation.dailyCapacityNano * stakedWei) / totalWei;
}

/** Reads the wallet's allowance for the ledger's current epoch and records it. Returns the nano-USD recorded. */
export async function syncAllowance(deps: AllowanceSyncDeps, wallet: LinkedWallet): Promise<bigint> {
  const epoch = epochAt(deps.clock(), deps.epochSeconds);
  const allowanceNano = await allowanceNanoOf(deps, wallet.address, epoch);
  await deps.ledger.setDiemAllowance(wallet.accountId, epoch, allowanceNano);
  return allowanceNano;
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
  /** Syncs every wallet now (e.g. once more before refusing a request for lack of DIEM). */
  syncNow(): Promise<void>;
  /** Adds a wallet (e.g. one just linked) and syncs it at once. */
  track(wallet: LinkedWallet): Promise<void>;
  /** Re-reads one account's allowance now; false when the account has no tracked wallet or the chain fails. */
  refresh(accountId: string): Promise<boolean>;
  status(): AllowanceSyncStatus;
  stop(): void;
}

export function startAllowanceSync(
  deps: AllowanceSyncDeps,
  wallets: LinkedWallet[],
  options: { intervalMs: number; eventPollingIntervalMs?: number; onError: (error: unknown) => void },
): AllowanceSync {
  const status: AllowanceSyncStatus = { ok: true, lastSyncMs: null, lastError: null };
  const tracked = new Map(wallets.map((wallet) => [wallet.address.toLowerCase(), wallet]));
  const syncWallets = async (list: LinkedWallet[]) => {
    try {
      await Promise.all(list.map((wallet) => syncAllowance(deps, wallet)));
      Object.assign(status, { ok: true, lastSyncMs: deps.clock(), lastError: null });
    } catch (error) {
      Object.assign(status, { ok: false, lastError: (error as Error).message.split('\n')[0] ?? String(error) });
      throw error;
    }
  };
  const syncAll = () => syncWallets([...tracked.values()]);
  const timer = setInterval(() => syncAll().catch(options.onError), options.intervalMs);
  timer.unref();
  const polling =
    options.eventPollingIntervalMs === undefined ? {} : { pollingInterval: options.eventPollingIntervalMs };
  const legacy = (deps.allocation ?? { kind: 'diem' }).kind === 'legacy';
  // diem: a DIEM stake event moves only its own account's allowance. legacy: any sVVV stake change moves every share.
  const unwatch = legacy
    ? deps.client.watchContractEvent({
        address: deps.contracts.stakedVvv,
        abi: stakedVvvAbi,
        onLogs: () => syncAll().catch(options.onError),
        onError: options.onError,
        ...polling,
      })
    : deps.client.watchContractEvent({
        address: deps.contracts.diemStaking,
        abi: diemStakingAbi,
        onLogs: (logs) => {
          const named = new Set(logs.map((log) => String((log.args as { account?: string }).account).toLowerCase()));
          const affected = [...named].flatMap((address) => tracked.get(address) ?? []);
          if (affected.length > 0) syncWallets(affected).catch(options.onError);
        },
        onError: options.onError,
        ...polling,
      });
  return {
    ready: syncAll(),
    syncNow: syncAll,
    async track(wallet) {
      tracked.set(wallet.address.toLowerCase(), wallet);
      await syncAllowance(deps, wallet);
    },
    async refresh(accountId) {
      const wallets = [...tracked.values()].filter((wallet) => wallet.accountId === accountId);
      if (wallets.length === 0) return false;
      try {
        await Promise.all(wallets.map((wallet) => syncAllowance(deps, wallet)));
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
