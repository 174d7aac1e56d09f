/** Differential test: the TypeScript curve mirror (src/core/mintCurve.ts) against the deployed contract, bit for bit. */
import fc from 'fast-check';
import { parseEther } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CurveParams, defaultCurveParams, maxMintWei, mintCostWei, rateWad } from '../core/mintCurve.ts';
import { type ChainContext, mintDiem, quoteMint, stakeVvv } from './actions.ts';
import { diemAbi, stakedVvvAbi } from './generated/contracts.ts';
import { startTestChain, type TestChain } from './testChain.ts';

const WAD = 10n ** 18n;

async function compareAtSupply(ctx: ChainContext, params: CurveParams, extraAmounts: bigint[] = []) {
  const read = ctx.client.readContract;
  const supply = await read({ address: ctx.contracts.diem, abi: diemAbi, functionName: 'totalSupply', args: [] });
  const rate = await read({ address: ctx.contracts.stakedVvv, abi: stakedVvvAbi, functionName: 'mintRate', args: [] });
  expect(rate, `mintRate at supply ${supply}`).toBe(rateWad(supply, params));
  const amounts = [
    1n,
    WAD / 2n,
    7n * WAD,
    10n * WAD,
    1_234_567_800_000_000_000_000n,
    maxMintWei(supply, params),
    ...extraAmounts,
  ];
  for (const amount of amounts.filter((value) => value > 0n && value <= maxMintWei(supply, params))) {
    expect(await quoteMint(ctx, amount), `quoteMint(${amount}) at supply ${supply}`).toBe(
      mintCostWei(supply, amount, params),
    );
  }
  return supply;
}

async function walkCurve(chain: TestChain, params: CurveParams, stepWei: bigint, untilWei: bigint) {
  const ctx = { wallet: chain.deployer, client: chain.client, contracts: chain.contracts };
  await stakeVvv(ctx, parseEther('60000000'));
  let supply = await compareAtSupply(ctx, params);
  while (supply + stepWei <= untilWei) {
    await mintDiem(ctx, stepWei);
    supply = await compareAtSupply(ctx, params);
  }
  return { ctx, supply };
}

describe('mint curve: TypeScript mirror against the contract', () => {
  describe('with the default curve (90, 2, 38,000)', () => {
    let chain: TestChain;
    beforeAll(async () => {
      chain = await startTestChain();
    });
    afterAll(() => chain?.stop());

    it('agrees on the rate and every quote from supply 0 to 40,000 DIEM, and on random amounts', async () => {
      const { ctx, supply } = await walkCurve(chain, defaultCurveParams, 2_545n * WAD + 3n, 40_000n * WAD);
      expect(supply).toBeGreaterThan(38_000n * WAD);
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min: 1n, max: maxMintWei(supply) }), async (amount) => {
          expect(await quoteMint(ctx, amount)).toBe(mintCostWei(supply, amount));
        }),
        { numRuns: 60, seed: 1 },
      );
    });
  });

  describe('with a compressed curve that reaches the steep end cheaply', () => {
    // A base of 1e-15 sVVV per DIEM keeps the steep end affordable; expWad sees exponents up to 31.
    const params: CurveParams = {
      baseWad: 1_000n,
      powerWad: 2n * WAD,
      targetWei: 1_000n * WAD,
      maxSupplyWei: 2_500n * WAD,
    };
    let chain: TestChain;
    beforeAll(async () => {
      chain = await startTestChain((base) => ({
        ...base,
        stakedVvv: { ...base.stakedVvv, ...params },
      }));
    });
    afterAll(() => chain?.stop());

    it('agrees up to the supply cap, where the exponent is above 30', async () => {
      const { supply } = await walkCurve(chain, params, 250n * WAD, params.maxSupplyWei);
      expect(supply).toBe(params.maxSupplyWei);
    });
  });
});
