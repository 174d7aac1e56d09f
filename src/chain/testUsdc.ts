/**
 * The local chain's stand-in for USDC: deploys TestUSDC (6 decimals, EIP-3009, EIP-2612; the owner mints at will,
 * so it is worthless) and funds wallets with it. `perdiem up` uses it so that x402 payments run offline.
 */
import { type Address, getAddress, type Hex } from 'viem';
import type { PublicClient, WalletClient } from './clients.ts';
import { testUsdcAbi, testUsdcBytecode } from './generated/contracts.ts';
import { receiptTimeoutMs } from './limits.ts';

/** 1 USDC in its smallest unit (6 decimals). */
export const usdcUnit = 1_000_000n;

/** The EIP-712 domain TestUSDC signs authorizations under (x402 puts name and version in `extra`). */
export const testUsdcEip712 = { name: 'Test USDC', version: '1' } as const;

async function confirmed(client: PublicClient, hash: Hex, what: string) {
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
  if (receipt.status !== 'success') throw new Error(`${what} reverted: ${hash}`);
  return receipt;
}

/** Deploys TestUSDC owned (and mintable) by `owner`'s wallet; returns its address. */
export async function deployTestUsdc(owner: WalletClient, client: PublicClient): Promise<Address> {
  const hash = await owner.deployContract({
    abi: testUsdcAbi,
    bytecode: testUsdcBytecode,
    args: [owner.account.address],
  });
  const receipt = await confirmed(client, hash, 'TestUSDC deployment');
  if (!receipt.contractAddress) throw new Error(`TestUSDC deployment has no contract address: ${hash}`);
  return getAddress(receipt.contractAddress);
}

/** Mints `amount` (6 decimals) to `to`; `owner` must be the token's owner. */
export async function fundTestUsdc(
  owner: WalletClient,
  client: PublicClient,
  token: Address,
  to: Address,
  amount: bigint,
): Promise<void> {
  const hash = await owner.writeContract({
    address: token,
    abi: testUsdcAbi,
    functionName: 'mint',
    args: [to, amount],
  });
  await confirmed(client, hash, 'TestUSDC mint');
}

export function usdcBalanceOf(client: PublicClient, token: Address, holder: Address): Promise<bigint> {
  return client.readContract({ address: token, abi: testUsdcAbi, functionName: 'balanceOf', args: [holder] });
}
