/**
 * The local facilitator on anvil with TestUSDC, in process and over HTTP through x402's own HTTPFacilitatorClient:
 * a good payment verifies and settles (USDC moves once); every bad one is refused with its reason.
 */

import { HTTPFacilitatorClient } from '@x402/core/server';
import type { PaymentRequirements } from '@x402/core/types';
import type { Address } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anvilMnemonic } from '../chain/anvil.ts';
import { walletClientFor } from '../chain/clients.ts';
import { startTestChain, type TestChain } from '../chain/testChain.ts';
import { testUsdcEip712, usdcBalanceOf, usdcUnit } from '../chain/testUsdc.ts';
import { reasons } from './exactEvmFacilitator.ts';
import type { Facilitator } from './facilitatorTypes.ts';
import { type LocalX402, startLocalX402 } from './localX402.ts';
import { evmNetwork } from './network.ts';
import { signExactPayment } from './testing/payments.ts';

describe('exact EVM facilitator', () => {
  let chain: TestChain;
  let local: LocalX402;
  let http: Facilitator;
  const payer = privateKeyToAccount(generatePrivateKey());
  let requirements: PaymentRequirements;

  beforeAll(async () => {
    chain = await startTestChain();
    local = await startLocalX402({
      client: chain.client,
      deployer: chain.deployer,
      demoAddress: payer.address,
      port: 0,
    });
    http = new HTTPFacilitatorClient({ url: local.facilitatorUrl });
    requirements = {
      scheme: 'exact',
      network: evmNetwork(chain.anvil.chainId),
      asset: local.usdc,
      amount: (2n * usdcUnit).toString(),
      payTo: local.payTo,
      maxTimeoutSeconds: 300,
      extra: { ...local.eip712 },
    };
  });
  afterAll(async () => {
    await local?.stop();
    await chain?.stop();
  });

  const chainId = () => chain.anvil.chainId;

  it('lists exact on this chain and its signer at /supported', async () => {
    const supported = await http.getSupported();
    expect(supported.kinds).toEqual([{ x402Version: 2, scheme: 'exact', network: evmNetwork(chainId()) }]);
    expect(supported.signers['eip155:*']).toEqual([mnemonicToAccount(anvilMnemonic, { addressIndex: 1 }).address]);
  });

  it('verifies and settles a good payment over HTTP; the USDC moves once and a second settle is refused', async () => {
    const payment = await signExactPayment(payer, requirements, chainId());
    const before = await usdcBalanceOf(chain.client, local.usdc, local.payTo);
    expect(await http.verify(payment, requirements)).toEqual({ isValid: true, payer: payer.address });
    const settled = await http.settle(payment, requirements);
    expect(settled).toMatchObject({ success: true, payer: payer.address, amount: '2000000' });
    const receipt = await chain.client.getTransactionReceipt({ hash: settled.transaction as `0x${string}` });
    expect(receipt.status).toBe('success');
    expect(await usdcBalanceOf(chain.client, local.usdc, local.payTo)).toBe(before + 2n * usdcUnit);

    const again = await http.settle(payment, requirements);
    expect(again).toMatchObject({ success: false, errorReason: reasons.nonceUsed });
    expect(await usdcBalanceOf(chain.client, local.usdc, local.payTo)).toBe(before + 2n * usdcUnit);
  });

  it('settles a payment submitted twice at once exactly once', async () => {
    const payment = await signExactPayment(payer, requirements, chainId());
    const before = await usdcBalanceOf(chain.client, local.usdc, payer.address);
    const results = await Promise.all([
      local.facilitator.settle(payment, requirements),
      local.facilitator.settle(payment, requirements),
    ]);
    expect(results.filter((result) => result.success)).toHaveLength(1);
    expect(await usdcBalanceOf(chain.client, local.usdc, payer.address)).toBe(before - 2n * usdcUnit);
  });

  const now = () => BigInt(Math.floor(Date.now() / 1000));
  const other = privateKeyToAccount(generatePrivateKey());
  const cases: [string, () => Promise<{ payment: Awaited<ReturnType<typeof signExactPayment>>; reason: string }>][] = [
    [
      'a wrong amount',
      async () => ({
        payment: await signExactPayment(payer, requirements, chainId(), { value: usdcUnit }),
        reason: reasons.value,
      }),
    ],
    [
      'a wrong recipient',
      async () => ({
        payment: await signExactPayment(payer, requirements, chainId(), { to: other.address }),
        reason: reasons.recipient,
      }),
    ],
    [
      'a wrong asset',
      async () => {
        const otherAsset = other.address as Address;
        const payment = await signExactPayment(payer, { ...requirements, asset: otherAsset }, chainId());
        return { payment, reason: reasons.asset };
      },
    ],
    [
      'an expired authorization',
      async () => ({
        payment: await signExactPayment(payer, requirements, chainId(), { validBefore: now() - 1n }),
        reason: reasons.validBefore,
      }),
    ],
    [
      'an authorization not valid yet',
      async () => ({
        payment: await signExactPayment(payer, requirements, chainId(), { validAfter: now() + 600n }),
        reason: reasons.validAfter,
      }),
    ],
    [
      'a signature by someone else',
      async () => {
        const payment = await signExactPayment(payer, requirements, chainId());
        const forged = await signExactPayment(other, requirements, chainId());
        return {
          payment: { ...payment, payload: { ...payment.payload, signature: forged.payload.signature } },
          reason: reasons.signature,
        };
      },
    ],
    [
      'a signature for another chain',
      async () => ({
        payment: await signExactPayment(payer, requirements, chainId(), { chainId: 1 }),
        reason: reasons.signature,
      }),
    ],
    [
      'a payer without the funds',
      async () => ({ payment: await signExactPayment(other, requirements, chainId()), reason: reasons.balance }),
    ],
    [
      'another network',
      async () => {
        const payment = await signExactPayment(payer, requirements, chainId());
        return {
          payment: { ...payment, accepted: { ...requirements, network: 'eip155:8453' } },
          reason: reasons.network,
        };
      },
    ],
    [
      'a payload that is not an authorization',
      async () => {
        const payment = await signExactPayment(payer, requirements, chainId());
        return { payment: { ...payment, payload: { signature: '0x' } }, reason: reasons.payload };
      },
    ],
  ];

  for (const [name, make] of cases) {
    it(`refuses ${name} at verify and at settle, moving nothing`, async () => {
      const { payment, reason } = await make();
      const before = await usdcBalanceOf(chain.client, local.usdc, local.payTo);
      const verified = await http.verify(payment, requirements).catch((error: { invalidReason?: string }) => ({
        isValid: false,
        invalidReason: error.invalidReason,
      }));
      expect(verified).toMatchObject({ isValid: false, invalidReason: reason });
      expect(await local.facilitator.settle(payment, requirements)).toMatchObject({
        success: false,
        errorReason: reason,
      });
      expect(await usdcBalanceOf(chain.client, local.usdc, local.payTo)).toBe(before);
    });
  }

  it('refuses a nonce the payer cancelled on chain', async () => {
    const payment = await signExactPayment(payer, requirements, chainId());
    const nonce = (payment.payload.authorization as { nonce: `0x${string}` }).nonce;
    const payerWallet = walletClientFor(chain.client.chain, payer);
    await chain.deployer.sendTransaction({ to: payer.address, value: 10n ** 17n });
    const signature = await payer.signTypedData({
      domain: { ...testUsdcEip712, chainId: chainId(), verifyingContract: local.usdc },
      types: {
        CancelAuthorization: [
          { name: 'authorizer', type: 'address' },
          { name: 'nonce', type: 'bytes32' },
        ],
      },
      primaryType: 'CancelAuthorization',
      message: { authorizer: payer.address, nonce },
    });
    const { testUsdcAbi } = await import('../chain/generated/contracts.ts');
    const hash = await payerWallet.writeContract({
      address: local.usdc,
      abi: testUsdcAbi,
      functionName: 'cancelAuthorization',
      args: [payer.address, nonce, signature],
    });
    await chain.client.waitForTransactionReceipt({ hash });
    expect(await http.verify(payment, requirements)).toMatchObject({
      isValid: false,
      invalidReason: reasons.nonceUsed,
    });
  });

  it('answers a malformed request with a 400 in the OpenAI error shape', async () => {
    const response = await fetch(`${local.facilitatorUrl}/verify`, { method: 'POST', body: '{"x402Version":2}' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_facilitator_request');
  });

  it('resumes with the same token and does not fund twice', async () => {
    const balance = await usdcBalanceOf(chain.client, local.usdc, payer.address);
    const again = await startLocalX402({
      client: chain.client,
      deployer: chain.deployer,
      demoAddress: payer.address,
      usdc: local.usdc,
      port: 0,
    });
    try {
      expect(again.usdc).toBe(local.usdc);
      expect(await usdcBalanceOf(chain.client, local.usdc, payer.address)).toBe(balance);
    } finally {
      await again.stop();
    }
  });
});
