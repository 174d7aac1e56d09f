/**
 * Sets up the development wallet that `perdiem up` hands to a newcomer: gas, VVV, then stake → mint → stake DIEM,
 * so the wallet has a DIEM allowance for the current epoch. Development chains only: the key is written to disk.
 */
import { type Address, type Hex, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { mintDiem, quoteMint, stakeDiem, stakeVvv } from './actions.ts';
import { type PublicClient, type WalletClient, walletClientFor } from './clients.ts';
import type { PerdiemContracts } from './deploy.ts';
import { vvvAbi } from './generated/contracts.ts';
import { receiptTimeoutMs } from './limits.ts';

export interface DemoPlan {
  gasWei: bigint;
  vvvWei: bigint;
  stakeVvvWei: bigint;
  mintDiemWei: bigint;
  stakeDiemWei: bigint;
}

const WAD = 10n ** 18n;

/** 100 DIEM staked: $100 of inference a day. Minting 100 DIEM at zero supply locks about 9,000 sVVV. */
export const defaultDemoPlan: DemoPlan = {
  gasWei: parseEther('10'),
  vvvWei: 50_000n * WAD,
  stakeVvvWei: 20_000n * WAD,
  mintDiemWei: 100n * WAD,
  stakeDiemWei: 100n * WAD,
};

export interface DemoWallet {
  address: Address;
  privateKey: Hex;
  svvvLockedWei: bigint;
}

/** `funder` must hold gas and VVV (on a fresh local chain, the deployer holds the genesis supply). */
export async function setUpDemoWallet(
  funder: WalletClient,
  client: PublicClient,
  contracts: PerdiemContracts,
  plan: DemoPlan = defaultDemoPlan,
  privateKey: Hex = generatePrivateKey(),
): Promise<DemoWallet> {
  const account = privateKeyToAccount(privateKey);
  const wait = (hash: Hex) => client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
  await wait(await funder.sendTransaction({ to: account.address, value: plan.gasWei }));
  await wait(
    await funder.writeContract({
      address: contracts.vvv,
      abi: vvvAbi,
      functionName: 'transfer',
      args: [account.address, plan.vvvWei],
    }),
  );
  const ctx = { wallet: walletClientFor(client.chain, account), client, contracts };
  await stakeVvv(ctx, plan.stakeVvvWei);
  const svvvLockedWei = await quoteMint(ctx, plan.mintDiemWei);
  await mintDiem(ctx, plan.mintDiemWei, svvvLockedWei);
  await stakeDiem(ctx, plan.stakeDiemWei);
  return { address: account.address, privateKey, svvvLockedWei };
}
