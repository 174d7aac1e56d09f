/**
 * StakedVVV's emission schedule as one consistent read (every view at the same block), and the owner's timelocked
 * changes to the rate: propose and cancel (owner only), apply (anyone, once the delay has passed). The contract
 * enforces every bound; these calls simulate first, so a refusal is a decoded custom error before anything is sent.
 */
import { type Address, type Hex, zeroAddress } from 'viem';
import { daySeconds } from '../core/epoch.ts';
import { type ChainContext, send } from './actions.ts';
import type { PublicClient } from './clients.ts';
import type { PerdiemContracts } from './deploy.ts';
import { stakedVvvAbi } from './generated/contracts.ts';

/** The ceiling steps once per this many seconds since deployment (the contract's SECONDS_PER_YEAR). */
export const emissionStepSeconds = 365n * BigInt(daySeconds);
const bpsDenominator = 10_000n;

export interface EmissionSchedule {
  /** The block every other field was read at, and its time (unix seconds): "now". */
  blockNumber: bigint;
  nowSeconds: bigint;
  owner: Address;
  /** The address that may accept ownership (Ownable2Step), or null when no handover is under way. */
  pendingOwner: Address | null;
  /** The rate the owner set, VVV wei per 365 days, before the ceiling applies. */
  annualEmissionWei: bigint;
  /** What accrues now: min(annualEmissionWei, ceilingWei). */
  effectiveAnnualEmissionWei: bigint;
  /** The ceiling at deployment. */
  launchCeilingWei: bigint;
  ceilingWei: bigint;
  emissionDecayBps: bigint;
  /** The ceiling's next 365-day step, or null once it no longer changes (decay 0, or the ceiling reached 0). */
  nextStep: { atSeconds: bigint; ceilingWei: bigint } | null;
  maxEmissionChangeBps: bigint;
  /** The largest move of one change against today's ceiling (rounded down, as the contract does). */
  maxChangeWei: bigint;
  emissionChangeDelaySeconds: bigint;
  /** Deployment time: the ceiling's steps are 365 days apart from here. */
  startSeconds: bigint;
  pending: { annualEmissionWei: bigint; effectiveAtSeconds: bigint } | null;
  /** The launch guard, or null when it was off at deployment. */
  launchGuard: { endsAtSeconds: bigint; mintCapWei: bigint; active: boolean } | null;
}

export async function readEmissionSchedule(ctx: {
  client: PublicClient;
  contracts: PerdiemContracts;
}): Promise<EmissionSchedule> {
  const block = await ctx.client.getBlock({ blockTag: 'latest' });
  const at = { address: ctx.contracts.stakedVvv, abi: stakedVvvAbi, blockNumber: block.number } as const;
  const [
    owner,
    pendingOwner,
    annualEmissionWei,
    effectiveAnnualEmissionWei,
    launchCeilingWei,
    ceilingWei,
    emissionDecayBps,
    maxEmissionChangeBps,
    emissionChangeDelaySeconds,
    startSeconds,
    [pendingRateWei, pendingEffectiveAt],
    launchWindowEndsAt,
    launchMintCapWei,
  ] = await Promise.all([
    ctx.client.readContract({ ...at, functionName: 'owner' }),
    ctx.client.readContract({ ...at, functionName: 'pendingOwner' }),
    ctx.client.readContract({ ...at, functionName: 'annualEmissionWei' }),
    ctx.client.readContract({ ...at, functionName: 'effectiveAnnualEmissionWei' }),
    ctx.client.readContract({ ...at, functionName: 'maxAnnualEmissionWei' }),
    ctx.client.readContract({ ...at, functionName: 'emissionCeilingWei' }),
    ctx.client.readContract({ ...at, functionName: 'emissionDecayBps' }),
    ctx.client.readContract({ ...at, functionName: 'maxEmissionChangeBps' }),
    ctx.client.readContract({ ...at, functionName: 'emissionChangeDelaySeconds' }),
    ctx.client.readContract({ ...at, functionName: 'emissionStartTimestamp' }),
    ctx.client.readContract({ ...at, functionName: 'pendingAnnualEmission' }),
    ctx.client.readContract({ ...at, functionName: 'launchWindowEndsAt' }),
    ctx.client.readContract({ ...at, functionName: 'launchMintCapWei' }),
  ]);
  const nowSeconds = block.timestamp;
  const stepsAt = nextStepSeconds(startSeconds, nowSeconds);
  const changing = emissionDecayBps !== 0n && ceilingWei !== 0n;
  const nextCeilingWei = changing
    ? await ctx.client.readContract({ ...at, functionName: 'emissionCeilingAt', args: [stepsAt] })
    : 0n;
  return {
    blockNumber: block.number,
    nowSeconds,
    owner,
    pendingOwner: pendingOwner === zeroAddress ? null : pendingOwner,
    annualEmissionWei,
    effectiveAnnualEmissionWei,
    launchCeilingWei,
    ceilingWei,
    emissionDecayBps,
    nextStep: changing ? { atSeconds: stepsAt, ceilingWei: nextCeilingWei } : null,
    maxEmissionChangeBps,
    maxChangeWei: (ceilingWei * maxEmissionChangeBps) / bpsDenominator,
    emissionChangeDelaySeconds,
    startSeconds,
    pending:
      pendingEffectiveAt === 0n ? null : { annualEmissionWei: pendingRateWei, effectiveAtSeconds: pendingEffectiveAt },
    launchGuard:
      launchWindowEndsAt === startSeconds
        ? null
        : { endsAtSeconds: launchWindowEndsAt, mintCapWei: launchMintCapWei, active: nowSeconds < launchWindowEndsAt },
  };
}

/** When the step after `nowSeconds` begins: the next multiple of 365 days after deployment. */
export function nextStepSeconds(startSeconds: bigint, nowSeconds: bigint): bigint {
  const step = nowSeconds <= startSeconds ? 0n : (nowSeconds - startSeconds) / emissionStepSeconds;
  return startSeconds + (step + 1n) * emissionStepSeconds;
}

/** Queues a new rate, applicable from now + the delay. Owner only; one proposal at a time. */
export function proposeAnnualEmission(ctx: ChainContext, annualEmissionWei: bigint): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'proposeAnnualEmission',
    args: [annualEmissionWei],
  });
}

/** Applies the pending proposal once its time has come; anyone may call it. */
export function applyAnnualEmission(ctx: ChainContext): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'applyAnnualEmission',
    args: [],
  });
}

/** Drops the pending proposal. Owner only. */
export function cancelAnnualEmission(ctx: ChainContext): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'cancelAnnualEmission',
    args: [],
  });
}
