/**
 * Feeds the ledger the DIEM allowance of linked wallets, read from `DiemStaking.allowanceOf(wallet, epoch)`:
 * once at start, on every DIEM stake event, and on a timer that also carries the allowance across epoch
 * boundaries. Allowance wei → nano-USD rounds down (DESIGN.md). The ledger honours a rise at once.
 */
import type { Address } from 'viem';
import { type Clock, epochAt } from '../core/epoch.ts';
import { diemWeiToNanoUsd } from '../core/money.ts';
import type { Ledger } from '../ledger/types.ts';
import type { PublicClient } from './clients.ts';
import type { PerdiemContracts } from './deploy.ts';
import { diemStakingAbi } from './generated/contracts.ts';

export interface LinkedWallet {
  accountId: string;
  address: Address;
}

export interface AllowanceSyncDeps {
  ledger: Ledger;
  client: PublicClient;
  contracts: Pick<PerdiemContracts, 'diemStaking'>;
  clock: Clock;
  epochSeconds: number;
}

/** Reads the wallet's allowance for the ledger's current epoch and records it. Returns the nano-USD recorded. */
export async function syncAllowance(deps: AllowanceSyncDeps, wallet: LinkedWallet): Promise<bigint> {
  const epoch = epochAt(deps.clock(), deps.epochSeconds);
  const allowanceWei = await deps.client.readContract({
    address: deps.contracts.diemStaking,
    abi: diemStakingAbi,
    functionName: 'allowanceOf',
    args: [wallet.address, BigInt(epoch)],
  });
  const allowanceNano = diemWeiToNanoUsd(allowanceWei);
  await deps.ledger.setDiemAllowance(wallet.accountId, epoch, allowanceNano);
  return allowanceNano;
}

export interface AllowanceSync {
  /** Resolves after the first sync of every wallet. */
  ready: Promise<void>;
  stop(): void;
}

export function startAllowanceSync(
  deps: AllowanceSyncDeps,
  wallets: LinkedWallet[],
  options: { intervalMs: number; eventPollingIntervalMs?: number; onError: (error: unknown) => void },
): AllowanceSync {
  const byAddress = new Map(wallets.map((wallet) => [wallet.address.toLowerCase(), wallet]));
  const syncAll = () => Promise.all(wallets.map((wallet) => syncAllowance(deps, wallet))).then(() => undefined);
  const timer = setInterval(() => syncAll().catch(options.onError), options.intervalMs);
  timer.unref();
  const unwatch = deps.client.watchContractEvent({
    address: deps.contracts.diemStaking,
    abi: diemStakingAbi,
    eventName: 'Staked',
    ...(options.eventPollingIntervalMs === undefined ? {} : { pollingInterval: options.eventPollingIntervalMs }),
    onLogs: (logs) => {
      for (const log of logs) {
        const wallet = byAddress.get(String(log.args.account).toLowerCase());
        if (wallet) syncAllowance(deps, wallet).catch(options.onError);
      }
    },
    onError: options.onError,
  });
  return {
    ready: syncAll(),
    stop() {
      clearInterval(timer);
      unwatch();
    },
  };
}
