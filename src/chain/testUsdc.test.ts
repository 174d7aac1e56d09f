/** TestUSDC on anvil: deployed, funded, and its EIP-712 domain is the one x402 requirements advertise. */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testUsdcAbi } from './generated/contracts.ts';
import { startTestChain, type TestChain } from './testChain.ts';
import { deployTestUsdc, fundTestUsdc, testUsdcEip712, usdcBalanceOf, usdcUnit } from './testUsdc.ts';

describe('TestUSDC helpers', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(async () => {
    await chain?.stop();
  });

  it('deploys a 6-decimal token with the advertised EIP-712 domain and funds a wallet', async () => {
    const token = await deployTestUsdc(chain.deployer, chain.client);
    const holder = privateKeyToAccount(generatePrivateKey()).address;
    await fundTestUsdc(chain.deployer, chain.client, token, holder, 25n * usdcUnit);
    expect(await usdcBalanceOf(chain.client, token, holder)).toBe(25n * usdcUnit);
    const decimals = await chain.client.readContract({ address: token, abi: testUsdcAbi, functionName: 'decimals' });
    expect(decimals).toBe(6);
    const [, name, version, chainId, verifyingContract] = await chain.client.readContract({
      address: token,
      abi: testUsdcAbi,
      functionName: 'eip712Domain',
    });
    expect({ name, version }).toEqual(testUsdcEip712);
    expect(chainId).toBe(BigInt(chain.anvil.chainId));
    expect(verifyingContract).toBe(token);
  });
});
