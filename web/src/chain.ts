/**
 * The page's chain access: a public client on the configured RPC, a wallet (the local development key, or an injected
 * browser wallet through EIP-1193), the holder's positions in one read, and transactions reported step by step.
 */
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  type EIP1193Provider,
  type Hex,
  http,
  maxUint256,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { diemAbi, diemStakingAbi, stakedVvvAbi, vvvAbi } from '../../src/chain/generated/contracts.ts';
import { gasHeadroomFixed, gasHeadroomPercent } from '../../src/chain/limits.ts';
import type { CurveParams } from '../../src/core/mintCurve.ts';
import type { ChainConfig, Contracts, DashboardConfig } from './config.ts';
import { describeTxError } from './revert.ts';

export const localChainId = 31337;

export function chainOf(config: ChainConfig): Chain {
  return defineChain({
    id: config.chainId,
    name: config.chainId === localChainId ? 'Local chain (anvil)' : `Chain ${config.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}

export function publicClientOf(config: ChainConfig): PublicClient {
  return createPublicClient({ chain: chainOf(config), transport: http(config.rpcUrl) });
}

export interface Wallet {
  kind: 'development' | 'injected';
  address: Address;
  client: WalletClient<ReturnType<typeof http> | ReturnType<typeof custom>, Chain, Account>;
}

/** The development wallet `perdiem up` funded; it signs in the page with its key. Local chains only. */
export function connectDevelopmentWallet(config: DashboardConfig): Wallet {
  if (!config.chain || config.chain.chainId !== localChainId || !config.devWallet) {
    throw new Error('the development wallet exists on the local chain only');
  }
  const account = privateKeyToAccount(config.devWallet.privateKey);
  const client = createWalletClient({ account, chain: chainOf(config.chain), transport: http(config.chain.rpcUrl) });
  return { kind: 'development', address: account.address, client };
}

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

export function hasInjectedWallet(): boolean {
  return typeof window !== 'undefined' && window.ethereum !== undefined;
}

/** A browser-extension wallet (EIP-1193 `window.ethereum`), switched to the dashboard's chain when it can be. */
export async function connectInjectedWallet(config: ChainConfig): Promise<Wallet> {
  const provider = window.ethereum;
  if (!provider) throw new Error('no browser wallet found (window.ethereum is missing)');
  const chain = chainOf(config);
  const [address] = await provider.request({ method: 'eth_requestAccounts' });
  if (!address) throw new Error('the wallet returned no account');
  const client = createWalletClient({ account: address, chain, transport: custom(provider) });
  const current = await client.getChainId();
  if (current !== chain.id) {
    try {
      await client.switchChain({ id: chain.id });
    } catch {
      await client.addChain({ chain });
    }
  }
  return { kind: 'injected', address, client };
}

export interface Holdings {
  vvvWei: bigint;
  svvv: { stakedWei: bigint; lockedWei: bigint; unlockedWei: bigint; coolingWei: bigint; coolingEndsAtMs: number };
  earnedWei: bigint;
  mintedWei: bigint;
  diem: { heldWei: bigint; stakedWei: bigint; coolingWei: bigint; coolingEndsAtMs: number };
  allowanceWei: bigint;
  nextEpochAllowanceWei: bigint;
}

export interface Market {
  diemSupplyWei: bigint;
  mintRateWad: bigint;
  totalDiemStakedWei: bigint;
  epoch: bigint;
  epochSeconds: bigint;
  svvvCooldownSeconds: bigint;
  diemCooldownSeconds: bigint;
  curve: CurveParams;
}

export async function readMarket(client: PublicClient, contracts: Contracts): Promise<Market> {
  const staking = { address: contracts.diemStaking, abi: diemStakingAbi } as const;
  const [
    diemSupplyWei,
    mintRateWad,
    totalDiemStakedWei,
    epoch,
    epochSeconds,
    svvvCooldownSeconds,
    diemCooldown,
    curve,
  ] = await Promise.all([
    client.readContract({ address: contracts.diem, abi: diemAbi, functionName: 'totalSupply' }),
    client.readContract({ address: contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'mintRate' }),
    client.readContract({ ...staking, functionName: 'totalStaked' }),
    client.readContract({ ...staking, functionName: 'currentEpoch' }),
    client.readContract({ ...staking, functionName: 'epochSeconds' }),
    client.readContract({ address: contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'cooldownSeconds' }),
    client.readContract({ ...staking, functionName: 'cooldownSeconds' }),
    client.readContract({ address: contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'curve' }),
  ]);
  return {
    diemSupplyWei,
    mintRateWad,
    totalDiemStakedWei,
    epoch,
    epochSeconds,
    svvvCooldownSeconds,
    diemCooldownSeconds: diemCooldown,
    curve: { baseWad: curve[0], powerWad: curve[1], targetWei: curve[2], maxSupplyWei: curve[3] },
  };
}

export async function readHoldings(client: PublicClient, contracts: Contracts, account: Address): Promise<Holdings> {
  const svvv = { address: contracts.stakedVvv, abi: stakedVvvAbi } as const;
  const staking = { address: contracts.diemStaking, abi: diemStakingAbi } as const;
  const epoch = await client.readContract({ ...staking, functionName: 'currentEpoch' });
  const [vvvWei, staked, locked, svvvCooling, earned, minted, held, diemStaked, diemCooling, allowance, next] =
    await Promise.all([
      client.readContract({ address: contracts.vvv, abi: vvvAbi, functionName: 'balanceOf', args: [account] }),
      client.readContract({ ...svvv, functionName: 'stakedOf', args: [account] }),
      client.readContract({ ...svvv, functionName: 'lockedOf', args: [account] }),
      client.readContract({ ...svvv, functionName: 'coolingOf', args: [account] }),
      client.readContract({ ...svvv, functionName: 'earned', args: [account] }),
      client.readContract({ ...svvv, functionName: 'mintedOf', args: [account] }),
      client.readContract({ address: contracts.diem, abi: diemAbi, functionName: 'balanceOf', args: [account] }),
      client.readContract({ ...staking, functionName: 'stakedOf', args: [account] }),
      client.readContract({ ...staking, functionName: 'coolingOf', args: [account] }),
      client.readContract({ ...staking, functionName: 'allowanceOf', args: [account, epoch] }),
      client.readContract({ ...staking, functionName: 'nextEpochAllowanceOf', args: [account] }),
    ]);
  return {
    vvvWei,
    svvv: {
      stakedWei: staked,
      lockedWei: locked,
      unlockedWei: staked - locked,
      coolingWei: svvvCooling[0],
      coolingEndsAtMs: Number(svvvCooling[1]) * 1000,
    },
    earnedWei: earned,
    mintedWei: minted,
    diem: {
      heldWei: held,
      stakedWei: diemStaked,
      coolingWei: diemCooling[0],
      coolingEndsAtMs: Number(diemCooling[1]) * 1000,
    },
    allowanceWei: allowance,
    nextEpochAllowanceWei: next,
  };
}

/** One step of an action, as the page shows it. */
export type TxStep =
  | { state: 'signing'; label: string }
  | { state: 'pending'; label: string; hash: Hex }
  | { state: 'confirmed'; label: string; hash: Hex; blockNumber: bigint }
  | { state: 'failed'; label: string; message: string; hash?: Hex };

export interface TxContext {
  wallet: Wallet;
  client: PublicClient;
  contracts: Contracts;
  report: (step: TxStep) => void;
}

interface Call {
  label: string;
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
}

/**
 * Simulates (so a revert shows its decoded custom error before anything is signed), sends, waits for the receipt.
 * Reports every step; throws after reporting a failure.
 */
export async function sendCall(ctx: TxContext, call: Call): Promise<Hex> {
  const { label, ...contractCall } = call;
  let hash: Hex | undefined;
  try {
    ctx.report({ state: 'signing', label });
    const account = ctx.wallet.client.account;
    const { request } = await ctx.client.simulateContract({ ...contractCall, account });
    const estimate = await ctx.client.estimateContractGas({ ...contractCall, account });
    // The same headroom as the CLI: state the estimate's block did not have (src/chain/limits.ts).
    hash = await ctx.wallet.client.writeContract({
      ...request,
      gas: (estimate * gasHeadroomPercent) / 100n + gasHeadroomFixed,
    });
    ctx.report({ state: 'pending', label, hash });
    const receipt = await ctx.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error('the transaction reverted');
    ctx.report({ state: 'confirmed', label, hash, blockNumber: receipt.blockNumber });
    return hash;
  } catch (error) {
    const message = describeTxError(error);
    ctx.report({ state: 'failed', label, message, ...(hash ? { hash } : {}) });
    throw error;
  }
}

async function approveIfNeeded(ctx: TxContext, token: Address, spender: Address, amountWei: bigint, name: string) {
  const current = await ctx.client.readContract({
    address: token,
    abi: vvvAbi,
    functionName: 'allowance',
    args: [ctx.wallet.address, spender],
  });
  if (current >= amountWei) return;
  await sendCall(ctx, {
    label: `Approve ${name}`,
    address: token,
    abi: vvvAbi,
    functionName: 'approve',
    args: [spender, maxUint256],
  });
}

export const actions = {
  async stakeVvv(ctx: TxContext, amountWei: bigint) {
    await approveIfNeeded(ctx, ctx.contracts.vvv, ctx.contracts.stakedVvv, amountWei, 'VVV');
    const { stakedVvv } = ctx.contracts;
    return sendCall(ctx, {
      label: 'Stake VVV',
      address: stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'stake',
      args: [amountWei],
    });
  },
  unstakeVvv: (ctx: TxContext, amountWei: bigint) =>
    sendCall(ctx, {
      label: 'Unstake sVVV',
      address: ctx.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'initiateUnstake',
      args: [amountWei],
    }),
  withdrawVvv: (ctx: TxContext) =>
    sendCall(ctx, {
      label: 'Withdraw VVV',
      address: ctx.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'withdraw',
      args: [],
    }),
  mintDiem: (ctx: TxContext, diemWei: bigint, maxSvvvInWei: bigint) =>
    sendCall(ctx, {
      label: 'Mint DIEM',
      address: ctx.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'mintDiem',
      args: [diemWei, maxSvvvInWei],
    }),
  burnDiem: (ctx: TxContext, diemWei: bigint) =>
    sendCall(ctx, {
      label: 'Burn DIEM',
      address: ctx.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'burnDiem',
      args: [diemWei],
    }),
  async stakeDiem(ctx: TxContext, amountWei: bigint) {
    await approveIfNeeded(ctx, ctx.contracts.diem, ctx.contracts.diemStaking, amountWei, 'DIEM');
    return sendCall(ctx, {
      label: 'Stake DIEM',
      address: ctx.contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'stake',
      args: [amountWei],
    });
  },
  unstakeDiem: (ctx: TxContext, amountWei: bigint) =>
    sendCall(ctx, {
      label: 'Unstake DIEM',
      address: ctx.contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'initiateUnstake',
      args: [amountWei],
    }),
  withdrawDiem: (ctx: TxContext) =>
    sendCall(ctx, {
      label: 'Withdraw DIEM',
      address: ctx.contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'withdraw',
      args: [],
    }),
};

export function quoteMintOnChain(client: PublicClient, contracts: Contracts, diemWei: bigint): Promise<bigint> {
  return client.readContract({
    address: contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'quoteMint',
    args: [diemWei],
  });
}

export function quoteBurnOnChain(
  client: PublicClient,
  contracts: Contracts,
  account: Address,
  diemWei: bigint,
): Promise<bigint> {
  return client.readContract({
    address: contracts.stakedVvv,
    abi: stakedVvvAbi,
    functionName: 'quoteBurn',
    args: [account, diemWei],
  });
}
