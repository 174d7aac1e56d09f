import { parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainActionError, mintDiem, quoteMint, readDiemAllowance } from './actions.ts';
import { walletClientFor } from './clients.ts';
import { setUpDemoWallet } from './demo.ts';
import { diemAbi, diemStakingAbi, stakedVvvAbi } from './generated/contracts.ts';
import { startTestChain, type TestChain } from './testChain.ts';

describe('contracts end to end on anvil', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(() => chain?.stop());

  it('deploys, stakes VVV, mints DIEM, stakes DIEM and reads the allowance of the current epoch', async () => {
    const { client, contracts } = chain;
    const demo = await setUpDemoWallet(chain.deployer, client, contracts);

    const read = <T>(call: Parameters<typeof client.readContract>[0]) => client.readContract(call) as Promise<T>;
    const staked = await read<bigint>({
      address: contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'stakedOf',
      args: [demo.address],
    });
    const locked = await read<bigint>({
      address: contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'lockedOf',
      args: [demo.address],
    });
    const held = await read<bigint>({
      address: contracts.diem,
      abi: diemAbi,
      functionName: 'balanceOf',
      args: [demo.address],
    });
    expect(staked).toBe(parseEther('100'));
    expect(locked).toBe(demo.svvvLockedWei);
    expect(held).toBe(0n);

    const now = BigInt(Math.floor(Number((await client.getBlock()).timestamp)));
    const { epoch, allowanceWei } = await readDiemAllowance(chain, demo.address);
    expect(epoch).toBe(now / 86_400n);
    expect(allowanceWei).toBe(parseEther('100'));
  });

  it('decodes a reverted mint into its custom error', async () => {
    const demo = await setUpDemoWallet(chain.deployer, chain.client, chain.contracts);
    const wallet = walletClientFor(chain.client.chain, privateKeyToAccount(demo.privateKey));
    const ctx = { wallet, client: chain.client, contracts: chain.contracts };
    const quote = await quoteMint(ctx, parseEther('1'));
    const failure = await mintDiem(ctx, parseEther('1'), quote - 1n).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ChainActionError);
    expect((failure as ChainActionError).errorName).toBe('StakedVVVSlippage');
    expect((failure as ChainActionError).errorArgs).toEqual([quote, quote - 1n]);
  });
});
