/**
 * What `perdiem up` reads from the chain while it runs: the linked wallets' allowances fed into the ledger, and the
 * stake, mint, burn and transfer history for the dashboard and the CLI; on the local chain, x402 with a test USDC.
 */
import path from 'node:path';
import type { Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { type AllocationMode, type AllowanceSync, startAllowanceSync } from '../../chain/allowanceSync.ts';
import { anvilMnemonic } from '../../chain/anvil.ts';
import { walletClientFor } from '../../chain/clients.ts';
import { startFollower } from '../../chain/follower/follower.ts';
import { openPostgresFollowerStore } from '../../chain/follower/postgresFollowerStore.ts';
import { openSqliteFollowerStore } from '../../chain/follower/sqliteFollowerStore.ts';
import type { Clock } from '../../core/epoch.ts';
import { parseUsd } from '../../core/money.ts';
import type { Ledger } from '../../ledger/types.ts';
import { type LocalX402, startLocalX402 } from '../../x402/localX402.ts';
import { allowanceSyncIntervalMs } from '../limits.ts';
import type { StackConfig } from '../stackConfig.ts';
import type { StackState } from '../stateFile.ts';
import type { PreparedChain } from './chain.ts';
import type { Closer, Progress } from './closers.ts';

export interface FeedParts {
  config: StackConfig;
  chain: PreparedChain;
  ledger: Ledger;
  clock: Clock;
  epochSeconds: number;
  progress: Progress;
}

function allocationOf(config: StackConfig): AllocationMode {
  return config.allocation === 'legacy'
    ? { kind: 'legacy', dailyCapacityNano: parseUsd(config.legacyDailyCapacityUsd!) }
    : { kind: 'diem' };
}

/** The allowance feed, started and through its first pass. */
export async function startAllowanceFeed(parts: FeedParts, closers: Closer[]): Promise<AllowanceSync> {
  const { config, chain, ledger, clock, epochSeconds, progress } = parts;
  // The anvil this stack started mines only on transactions: after midnight with none, its head stays in the old
  // epoch, where the feed credits nothing (see allowanceSync.ts). On that chain, and only there, the feed mines empty
  // blocks then, enough for one in the new epoch to have its confirmations.
  const advanceChain = chain.mine ? () => chain.mine!(config.confirmations + 1) : undefined;
  const sync = startAllowanceSync(
    {
      ledger,
      client: chain.client,
      contracts: chain.contracts,
      clock,
      epochSeconds,
      allocation: allocationOf(config),
      confirmations: config.confirmations,
      ...(advanceChain ? { advanceChain } : {}),
    },
    // Every wallet linked so far (the demo wallet among them), so a restart keeps feeding their allowances.
    (await ledger.listWallets()).map((wallet) => ({ accountId: wallet.accountId, address: wallet.address as Address })),
    {
      intervalMs: allowanceSyncIntervalMs,
      onError: (error) => progress(`allowance sync failed: ${(error as Error).message}`),
    },
  );
  closers.push(() => sync.stop());
  await sync.ready;
  return sync;
}

/** Stake, mint, burn and transfer history, in the ledger's database, for the dashboard and the CLI. */
export async function startHistoryFeed(parts: FeedParts, closers: Closer[]): Promise<void> {
  const { config, chain, progress } = parts;
  const followerStore = config.databaseUrl
    ? await openPostgresFollowerStore({ url: config.databaseUrl, schema: config.databaseSchema, createSchema: true })
    : openSqliteFollowerStore({ path: path.join(config.home, 'ledger.sqlite') });
  closers.push(() => followerStore.close());
  const follower = startFollower(
    { client: chain.client, store: followerStore },
    {
      chainId: chain.chainId,
      contracts: chain.contracts,
      fromBlock: chain.fromBlock,
      confirmations: config.confirmations,
      onError: (error) => progress(`chain follower: ${(error as Error).message.split('\n')[0]}`),
    },
  );
  follower.done.catch((error: Error) => progress(`chain follower stopped: ${error.message}`));
  closers.push(() => follower.stop());
}

/** x402 on the local chain: a test USDC funded to the demo wallet, and the project's own facilitator. */
export async function startDemoX402(
  chain: PreparedChain,
  previous: StackState | undefined,
  closers: Closer[],
): Promise<LocalX402 | undefined> {
  if (!chain.demo) return undefined;
  const x402 = await startLocalX402({
    client: chain.client,
    deployer: walletClientFor(chain.client.chain, mnemonicToAccount(anvilMnemonic)),
    demoAddress: chain.demo.address,
    ...(previous?.x402?.usdc ? { usdc: previous.x402.usdc } : {}),
    port: 0,
  });
  closers.push(() => x402.stop());
  return x402;
}
