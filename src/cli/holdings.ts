/** A wallet's position across the four contracts, read in one go, and its human rendering. */
import type { Address } from 'viem';
import { readDiemAllowance } from '../chain/actions.ts';
import type { PublicClient } from '../chain/clients.ts';
import type { PerdiemContracts } from '../chain/deploy.ts';
import { diemAbi, diemStakingAbi, stakedVvvAbi, vvvAbi } from '../chain/generated/contracts.ts';
import { formatToken } from './amounts.ts';
import { keyValues } from './output.ts';

export interface Cooling {
  amountWei: bigint;
  /** Unix seconds; 0 when nothing is cooling. */
  endsAt: bigint;
}

export interface Holdings {
  address: Address;
  vvvWei: bigint;
  svvv: { stakedWei: bigint; unlockedWei: bigint; lockedWei: bigint; cooling: Cooling };
  diem: {
    heldWei: bigint;
    stakedWei: bigint;
    cooling: Cooling;
    /** Today's allowance: the DIEM (wei) that backs this epoch's $ of inference. */
    allowance: { epoch: bigint; amountWei: bigint };
  };
}

export async function readHoldings(
  ctx: { client: PublicClient; contracts: PerdiemContracts },
  address: Address,
): Promise<Holdings> {
  const { client, contracts } = ctx;
  const svvv = { address: contracts.stakedVvv, abi: stakedVvvAbi } as const;
  const staking = { address: contracts.diemStaking, abi: diemStakingAbi } as const;
  const [vvvWei, stakedWei, unlockedWei, lockedWei, svvvCooling, heldWei, diemStakedWei, diemCooling, allowance] =
    await Promise.all([
      client.readContract({ address: contracts.vvv, abi: vvvAbi, functionName: 'balanceOf', args: [address] }),
      client.readContract({ ...svvv, functionName: 'stakedOf', args: [address] }),
      client.readContract({ ...svvv, functionName: 'unlockedOf', args: [address] }),
      client.readContract({ ...svvv, functionName: 'lockedOf', args: [address] }),
      client.readContract({ ...svvv, functionName: 'coolingOf', args: [address] }),
      client.readContract({ address: contracts.diem, abi: diemAbi, functionName: 'balanceOf', args: [address] }),
      client.readContract({ ...staking, functionName: 'stakedOf', args: [address] }),
      client.readContract({ ...staking, functionName: 'coolingOf', args: [address] }),
      readDiemAllowance(ctx, address),
    ]);
  return {
    address,
    vvvWei,
    svvv: {
      stakedWei,
      unlockedWei,
      lockedWei,
      cooling: { amountWei: svvvCooling[0], endsAt: svvvCooling[1] },
    },
    diem: {
      heldWei,
      stakedWei: diemStakedWei,
      cooling: { amountWei: diemCooling[0], endsAt: diemCooling[1] },
      allowance: { epoch: allowance.epoch, amountWei: allowance.allowanceWei },
    },
  };
}

function cooling(entry: Cooling): string {
  if (entry.amountWei === 0n) return '0';
  return `${formatToken(entry.amountWei)} (until ${new Date(Number(entry.endsAt) * 1000).toISOString()})`;
}

export function holdingsText(h: Holdings): string {
  return keyValues([
    ['wallet', h.address],
    ['VVV', formatToken(h.vvvWei)],
    [
      'sVVV staked',
      `${formatToken(h.svvv.stakedWei)} (unlocked ${formatToken(h.svvv.unlockedWei)}, locked ${formatToken(h.svvv.lockedWei)})`,
    ],
    ['sVVV cooling', cooling(h.svvv.cooling)],
    ['DIEM held', formatToken(h.diem.heldWei)],
    ['DIEM staked', formatToken(h.diem.stakedWei)],
    ['DIEM cooling', cooling(h.diem.cooling)],
    ['allowance', `$${formatToken(h.diem.allowance.amountWei)} today (epoch ${h.diem.allowance.epoch})`],
  ]);
}
