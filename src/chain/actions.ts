/**
 * The holder's actions as single calls: each simulates first (so a revert surfaces as a decoded custom error
 * before anything is sent), sends, and waits for the receipt.
 */
import { type Abi, type Address, BaseError, ContractFunctionRevertedError, type Hex, maxUint256 } from 'viem';
import type { PublicClient, WalletClient } from './clients.ts';
import type { PerdiemContracts } from './deploy.ts';
import { diemAbi, diemStakingAbi, stakedVvvAbi, vvvAbi } from './generated/contracts.ts';
import { gasHeadroomFixed, gasHeadroomPercent, receiptTimeoutMs } from './limits.ts';

export interface ChainContext {
  wallet: WalletClient;
  client: PublicClient;
  contracts: PerdiemContracts;
}

/** A reverted holder action, with the custom error decoded from the contract ABI when there is one. */
export class ChainActionError extends Error {
  override readonly name = 'ChainActionError';
  readonly errorName: string | undefined;
  readonly errorArgs: readonly unknown[];

  constructor(message: string, errorName: string | undefined, errorArgs: readonly unknown[], cause: unknown) {
    super(message, { cause });
    this.errorName = errorName;
    this.errorArgs = errorArgs;
  }
}

export function decodeChainError(error: unknown): ChainActionError {
  if (error instanceof BaseError) {
    const reverted = error.walk((inner) => inner instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
      const args = reverted.data.args ?? [];
      const rendered = args.map((arg) => String(arg)).join(', ');
      return new ChainActionError(
        `reverted: ${reverted.data.errorName}(${rendered})`,
        reverted.data.errorName,
        args,
        error,
      );
    }
    return new ChainActionError(error.shortMessage, undefined, [], error);
  }
  return new ChainActionError((error as Error).message ?? String(error), undefined, [], error);
}

/** Simulates (decoding a revert), sends with gas headroom and waits for a successful receipt. */
export async function send(
  ctx: ChainContext,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<Hex> {
  try {
    const { request } = await ctx.client.simulateContract({ ...call, account: ctx.wallet.account });
    const estimate = await ctx.client.estimateContractGas({ ...call, account: ctx.wallet.account });
    // Headroom for state the estimate's block did not have (see gasHeadroomFixed); unused gas is not charged.
    const gas = (estimate * gasHeadroomPercent) / 100n + gasHeadroomFixed;
    const hash = await ctx.wallet.writeContract({ ...request, gas });
    const receipt = await ctx.client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
    if (receipt.status !== 'success') {
      throw new Error(`transaction reverted: ${hash} (gas used ${receipt.gasUsed} of ${gas})`);
    }
    return hash;
  } catch (error) {
    throw decodeChainError(error);
  }
}

async function approveIfNeeded(ctx: ChainContext, token: Address, spender: Address, amountWei: bigint): Promise<void> {
  const owner = ctx.wallet.account.address;
  const current = await ctx.client.readContract({
    address: token,
    abi: vvvAbi,
    functionName: 'allowance',
    args: [owner, spender],
  });
  if (current >= amountWei) return;
  await send(ctx, { address: token, abi: vvvAbi, functionName: 'approve', args: [spender, maxUint256] });
}

export async function stakeVvv(ctx: ChainContext, amountWei: bigint): Promise<Hex> {
  await approveIfNeeded(ctx, ctx.contracts.vvv, ctx.contracts.stakedVvv, amountWei);
  return send(ctx, { address: ctx.contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'stake', args: [amountWei] });
}

export function initiateVvvUnstake(ctx: ChainContext, amountWei: bigint): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'initiateUnstake',
    args: [amountWei],
  });
}

export function withdrawVvv(ctx: ChainContext): Promise<Hex> {
  return send(ctx, { address: ctx.contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'withdraw', args: [] });
}

/** Moves `amountWei` of the caller's unlocked sVVV to `to` (locked and cooling sVVV cannot move). */
export function transferSvvv(ctx: ChainContext, to: Address, amountWei: bigint): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'transfer',
    args: [to, amountWei],
  });
}

export function quoteMint(ctx: Omit<ChainContext, 'wallet'>, diemWei: bigint): Promise<bigint> {
  return ctx.client.readContract({
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'quoteMint',
    args: [diemWei],
  });
}

/** Mints `diemWei` DIEM, locking at most `maxSvvvInWei` sVVV (defaults to the current quote: no slippage). */
export async function mintDiem(ctx: ChainContext, diemWei: bigint, maxSvvvInWei?: bigint): Promise<Hex> {
  const limit = maxSvvvInWei ?? (await quoteMint(ctx, diemWei));
  return send(ctx, {
    address: ctx.contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'mintDiem',
    args: [diemWei, limit],
  });
}

export function burnDiem(ctx: ChainContext, diemWei: bigint): Promise<Hex> {
  return send(ctx, { address: ctx.contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'burnDiem', args: [diemWei] });
}

export async function stakeDiem(ctx: ChainContext, amountWei: bigint): Promise<Hex> {
  await approveIfNeeded(ctx, ctx.contracts.diem, ctx.contracts.diemStaking, amountWei);
  return send(ctx, {
    address: ctx.contracts.diemStaking,
    abi: diemStakingAbi,
    functionName: 'stake',
    args: [amountWei],
  });
}

export function initiateDiemUnstake(ctx: ChainContext, amountWei: bigint): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.diemStaking,
    abi: diemStakingAbi,
    functionName: 'initiateUnstake',
    args: [amountWei],
  });
}

export function withdrawDiem(ctx: ChainContext): Promise<Hex> {
  return send(ctx, { address: ctx.contracts.diemStaking, abi: diemStakingAbi, functionName: 'withdraw', args: [] });
}

export function transferDiem(ctx: ChainContext, to: Address, amountWei: bigint): Promise<Hex> {
  return send(ctx, { address: ctx.contracts.diem, abi: diemAbi, functionName: 'transfer', args: [to, amountWei] });
}

/** The DIEM allowance (wei) of `account` for `epoch`, or for the current epoch. */
export async function readDiemAllowance(
  ctx: Omit<ChainContext, 'wallet'>,
  account: Address,
  epoch?: bigint,
): Promise<{ epoch: bigint; allowanceWei: bigint }> {
  const address = ctx.contracts.diemStaking;
  const at =
    epoch ?? (await ctx.client.readContract({ address, abi: diemStakingAbi, functionName: 'currentEpoch', args: [] }));
  const allowanceWei = await ctx.client.readContract({
    address,
    abi: diemStakingAbi,
    functionName: 'allowanceOf',
    args: [account, at],
  });
  return { epoch: at, allowanceWei };
}

/**
 * Allocates `amountWei` of the caller's DIEM allowance to `member` from the next epoch on (0 revokes). The caller's
 * total allocated must stay within its stake; the current epoch is unaffected.
 */
export function setAllocation(ctx: ChainContext, member: Address, amountWei: bigint): Promise<Hex> {
  return send(ctx, {
    address: ctx.contracts.diemStaking,
    abi: diemStakingAbi,
    functionName: 'setAllocation',
    args: [member, amountWei],
  });
}
