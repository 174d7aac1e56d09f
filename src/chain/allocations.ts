/**
 * Reads of DiemStaking's allocations (`setAllocation`): what a wallet (a treasury) allocates to its members for the
 * current and the next epoch, and what it receives. Changes take effect at the next epoch boundary, so both figures
 * are shown. The members are the contract's `membersOf` (those with a scheduled amount) plus, from the
 * `AllocationSet` logs, members revoked in this epoch that still hold its amount; a wallet's delegators come from
 * the logs (the contract keeps only the totals per member).
 */
import type { Address } from 'viem';
import type { ChainContext } from './actions.ts';
import { diemStakingAbi } from './generated/contracts.ts';

type ReadContext = Omit<ChainContext, 'wallet'>;

export interface AllocationLine {
  /** The other side: the member for an allocation out, the delegator for one received. */
  wallet: Address;
  currentWei: bigint;
  nextWei: bigint;
}

export interface AllocationsView {
  wallet: Address;
  epoch: bigint;
  stakedWei: bigint;
  /** allowanceOf(wallet, epoch) and nextEpochAllowanceOf(wallet). */
  allowanceWei: bigint;
  nextAllowanceWei: bigint;
  outCurrentWei: bigint;
  outNextWei: bigint;
  inCurrentWei: bigint;
  inNextWei: bigint;
  /** What the wallet allocates, per member (current or next amount positive). */
  out: AllocationLine[];
  /** What the wallet receives, per delegator (current or next amount positive). */
  in: AllocationLine[];
}

/** Every wallet that appears on the `side` of an AllocationSet log naming `wallet` on the other side. */
async function counterpartsFromLogs(ctx: ReadContext, wallet: Address, side: 'member' | 'delegator') {
  const logs = await ctx.client.getContractEvents({
    address: ctx.contracts.diemStaking,
    abi: diemStakingAbi,
    eventName: 'AllocationSet',
    args: side === 'member' ? { delegator: wallet } : { member: wallet },
    fromBlock: 0n,
    toBlock: 'latest',
  });
  return logs.map((log) => (side === 'member' ? log.args.member : log.args.delegator) as Address);
}

function unique(addresses: readonly Address[]): Address[] {
  const seen = new Map(addresses.map((address) => [address.toLowerCase(), address]));
  return [...seen.values()];
}

async function lines(ctx: ReadContext, pairs: readonly [Address, Address][], pickOther: 0 | 1) {
  const read = await Promise.all(
    pairs.map(([delegator, member]) =>
      ctx.client.readContract({
        address: ctx.contracts.diemStaking,
        abi: diemStakingAbi,
        functionName: 'allocationOf',
        args: [delegator, member],
      }),
    ),
  );
  return pairs
    .map(([delegator, member], i) => {
      const [currentWei, nextWei] = read[i]!;
      return { wallet: pickOther === 1 ? member : delegator, currentWei, nextWei };
    })
    .filter((line) => line.currentWei > 0n || line.nextWei > 0n);
}

/** The allocations of `wallet`, out and in, for the current epoch and the next one. */
export async function readAllocations(ctx: ReadContext, wallet: Address): Promise<AllocationsView> {
  const staking = { address: ctx.contracts.diemStaking, abi: diemStakingAbi } as const;
  const epoch = await ctx.client.readContract({ ...staking, functionName: 'currentEpoch' });
  const [stakedWei, allowanceWei, nextAllowanceWei, outCurrentWei, outNextWei, inCurrentWei, inNextWei, listed] =
    await Promise.all([
      ctx.client.readContract({ ...staking, functionName: 'stakedOf', args: [wallet] }),
      ctx.client.readContract({ ...staking, functionName: 'allowanceOf', args: [wallet, epoch] }),
      ctx.client.readContract({ ...staking, functionName: 'nextEpochAllowanceOf', args: [wallet] }),
      ctx.client.readContract({ ...staking, functionName: 'allocatedOutOf', args: [wallet, epoch] }),
      ctx.client.readContract({ ...staking, functionName: 'allocatedOutOf', args: [wallet, epoch + 1n] }),
      ctx.client.readContract({ ...staking, functionName: 'allocatedInOf', args: [wallet, epoch] }),
      ctx.client.readContract({ ...staking, functionName: 'allocatedInOf', args: [wallet, epoch + 1n] }),
      ctx.client.readContract({ ...staking, functionName: 'membersOf', args: [wallet] }),
    ]);
  const [members, delegators] = await Promise.all([
    counterpartsFromLogs(ctx, wallet, 'member'),
    counterpartsFromLogs(ctx, wallet, 'delegator'),
  ]);
  const outPairs = unique([...listed, ...members]).map((member) => [wallet, member] as [Address, Address]);
  const inPairs = unique(delegators).map((delegator) => [delegator, wallet] as [Address, Address]);
  return {
    wallet,
    epoch,
    stakedWei,
    allowanceWei,
    nextAllowanceWei,
    outCurrentWei,
    outNextWei,
    inCurrentWei,
    inNextWei,
    out: await lines(ctx, outPairs, 1),
    in: await lines(ctx, inPairs, 0),
  };
}
