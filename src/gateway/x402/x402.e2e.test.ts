/**
 * Wallet payments end to end on anvil, over real HTTP: TestUSDC, the project's facilitator on its own port (reached
 * through x402's HTTPFacilitatorClient), the gateway with a SQLite ledger, and the official `@x402/fetch` client
 * with a viem wallet. Top up $5, spend it with wallet-signed chat requests, watch USDC move on chain and the USD
 * balance fall by exactly the priced usage; double spends credit once; bad payments are refused with reasons.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x402Client } from '@x402/core/client';
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentSignatureHeader,
} from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walletClientFor } from '../../chain/clients.ts';
import { testUsdcAbi } from '../../chain/generated/contracts.ts';
import { startTestChain, type TestChain } from '../../chain/testChain.ts';
import { fundTestUsdc, testUsdcEip712, usdcBalanceOf, usdcUnit } from '../../chain/testUsdc.ts';
import { epochAt } from '../../core/epoch.ts';
import { nanoPerUsd } from '../../core/money.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { reasons } from '../../x402/exactEvmFacilitator.ts';
import { externalFacilitator } from '../../x402/externalFacilitator.ts';
import type { Facilitator } from '../../x402/facilitatorTypes.ts';
import { type LocalX402, startLocalX402 } from '../../x402/localX402.ts';
import { evmNetwork } from '../../x402/network.ts';
import { signInHeader } from '../../x402/signInHeader.ts';
import { signExactPayment } from '../../x402/testing/payments.ts';
import { gatewayLogger } from '../app.ts';
import { createMemoryNonceStore } from '../identity/walletToken.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';
import type { X402Config } from './config.ts';
import { createWalletConcurrency } from './walletAuth.ts';

const domain = 'perdiem.test';
/** 7 prompt tokens at $1/1M and 5 completion tokens at $4/1M: what the fake model's answer costs, in nano-USD. */
const chatCostNano = 7n * 1_000n + 5n * 4_000n;

describe('x402 wallet payments', () => {
  let chain: TestChain;
  let local: LocalX402;
  let ledger: Ledger;
  let directory: string;
  let gateway: GatewayServer;
  let config: X402Config;
  /** Runs between verify and settle, to break a settlement on purpose. */
  let beforeSettle: (() => Promise<void>) | null = null;
  /** When set, the settle goes through on chain but its answer is lost, as to a timeout. */
  let loseSettleAnswer = false;
  const payer = privateKeyToAccount(generatePrivateKey());

  beforeAll(async () => {
    chain = await startTestChain();
    local = await startLocalX402({
      client: chain.client,
      deployer: chain.deployer,
      demoAddress: payer.address,
      port: 0,
    });
    await chain.deployer.sendTransaction({ to: payer.address, value: 10n ** 18n });
    directory = await mkdtemp(join(tmpdir(), 'perdiem-x402-'));
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
    const remote = externalFacilitator(local.facilitatorUrl);
    const facilitator: Facilitator = {
      verify: (payload, requirements) => remote.verify(payload, requirements),
      getSupported: () => remote.getSupported(),
      async settle(payload, requirements) {
        await beforeSettle?.();
        const settled = await remote.settle(payload, requirements);
        if (loseSettleAnswer) throw Object.assign(new Error('The operation timed out'), { name: 'TimeoutError' });
        return settled;
      },
    };
    config = {
      network: evmNetwork(chain.anvil.chainId),
      asset: local.usdc,
      eip712: local.eip712,
      payTo: local.payTo,
      facilitator,
      chain: chain.client,
      signIn: {
        domain,
        chainId: chain.anvil.chainId,
        verifyMessage: (args) => chain.client.verifyMessage(args),
        nonces: createMemoryNonceStore(),
      },
      topUpMinNano: 1n * nanoPerUsd,
      topUpMaxNano: 100n * nanoPerUsd,
    };
    gateway = await startGatewayServer({
      ledger,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      logger: gatewayLogger('silent'),
      x402: config,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await ledger?.close();
    await local?.stop();
    await chain?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  const chainId = () => chain.anvil.chainId;
  const topUpUrl = () => `${gateway.url}/api/v1/x402/top-up`;
  const signedBy = async (account = payer) => ({
    'X-Sign-In-With-X': await signInHeader(account, { domain, chainId: chainId() }),
  });
  const usdOf = async (account = payer) => {
    const found = await ledger.accountByWallet(account.address);
    return found ? (await ledger.balance(found.id)).usd.availableNano : 0n;
  };
  const chat = async (headers: Record<string, string>) =>
    await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    });
  const requirementsFor = async (amountUsd: string): Promise<PaymentRequirements> => {
    const response = await fetch(topUpUrl(), { method: 'POST', body: JSON.stringify({ amountUsd }) });
    expect(response.status).toBe(402);
    return decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts[0]!;
  };
  const submit = async (amountUsd: string, payment: PaymentPayload) =>
    await fetch(topUpUrl(), {
      method: 'POST',
      headers: { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payment) },
      body: JSON.stringify({ amountUsd }),
    });

  it('answers a request with no credentials to a route x402 cannot pay for with a 401 that lists both ways in', async () => {
    for (const [path, init] of [
      ['/v1/models', {}],
      ['/api/v1/api_keys', {}],
      ['/v1/embeddings', { method: 'POST', body: JSON.stringify({ model: fakeModels.text, input: 'x' }) }],
      // A chat request x402 cannot quote (no such model) is not offered a payment either.
      ['/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'nope', messages: [] }) }],
    ] as const) {
      const response = await fetch(`${gateway.url}${path}`, init);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('payment-required')).toBeNull();
      const body = (await response.json()) as {
        error: { code: string; type: string };
        authentication: { apiKey: { header: string }; wallet: { header: string } };
        accepts?: unknown;
      };
      expect(body.error).toMatchObject({ code: 'missing_api_key', type: 'authentication_error' });
      expect(body.authentication.apiKey.header).toBe('Authorization');
      expect(body.authentication.wallet.header).toBe('X-Sign-In-With-X');
      expect(body.accepts).toBeUndefined();
    }
  });

  it('tops up $5 through @x402/fetch, spends it with wallet-signed chat requests, exactly as priced', async () => {
    const client = x402Client.fromConfig({
      schemes: [{ network: config.network, client: new ExactEvmScheme(payer) }],
      spendControls: {
        allowedAssets: [{ network: config.network, asset: local.usdc, maxAmountPerPayment: '5000000' }],
      },
    });
    const payingFetch = wrapFetchWithPayment(fetch, client);
    const payerUsdc = await usdcBalanceOf(chain.client, local.usdc, payer.address);
    const treasuryUsdc = await usdcBalanceOf(chain.client, local.usdc, local.payTo);

    const response = await payingFetch(topUpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amountUsd: '5' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { credited: boolean; balanceUsd: string; transaction: string } };
    expect(body.data).toMatchObject({ credited: true, balanceUsd: '5', amountUsd: '5', walletAddress: payer.address });
    const settled = decodePaymentResponseHeader(response.headers.get('payment-response')!);
    expect(settled).toMatchObject({ success: true, transaction: body.data.transaction, payer: payer.address });
    expect(await usdcBalanceOf(chain.client, local.usdc, payer.address)).toBe(payerUsdc - 5n * usdcUnit);
    expect(await usdcBalanceOf(chain.client, local.usdc, local.payTo)).toBe(treasuryUsdc + 5n * usdcUnit);
    expect(await usdOf()).toBe(5n * nanoPerUsd);

    let charged = 0n;
    for (let i = 0; i < 3; i++) {
      const answer = await chat(await signedBy());
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-wallet-address')).toBe(payer.address);
      const cost = ((await answer.json()) as { cost: { nanoUsd: string; source: string } }).cost;
      expect(cost).toMatchObject({ nanoUsd: chatCostNano.toString(), source: 'USD' });
      charged += BigInt(cost.nanoUsd);
    }
    expect(await usdOf()).toBe(5n * nanoPerUsd - charged);
    expect(charged).toBe(3n * chatCostNano);

    const balance = await fetch(`${gateway.url}/api/v1/x402/balance/${payer.address}`, { headers: await signedBy() });
    expect(balance.status).toBe(200);
    expect(((await balance.json()) as { data: { balanceUsd: string } }).data.balanceUsd).toBe('4.999919');

    const history = await fetch(`${gateway.url}/api/v1/x402/transactions/${payer.address}`, {
      headers: await signedBy(),
    });
    const transactions = ((await history.json()) as { data: { transactions: { type: string; amountUsd: string }[] } })
      .data.transactions;
    expect(transactions.filter((t) => t.type === 'CHARGE').map((t) => t.amountUsd)).toEqual([
      '-0.000027',
      '-0.000027',
      '-0.000027',
    ]);
    expect(transactions.filter((t) => t.type === 'TOP_UP').map((t) => t.amountUsd)).toEqual(['5']);
  });

  it('lets a text request pay for itself with @x402/fetch: only its actual cost is charged, the rest is kept', async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    await fundTestUsdc(chain.deployer, chain.client, local.usdc, buyer.address, 1n * usdcUnit);
    const unpaid = await chat({});
    expect(unpaid.status).toBe(402);
    const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!);
    const quotedUnits = BigInt(required.accepts[0]!.amount);
    expect(quotedUnits * 1_000n).toBeGreaterThanOrEqual(chatCostNano);
    const offer = (await unpaid.json()) as { authentication: unknown; paidFrom: string[]; error: { message: string } };
    expect(offer.authentication).toBeDefined();
    expect(offer.paidFrom).toEqual([
      "the wallet's DIEM allowance",
      'its credits',
      'its USD balance',
      'then this payment',
    ]);
    expect(offer.error.message).toContain(
      "paid from, in order: the wallet's DIEM allowance, its credits, its USD balance, then this payment",
    );
    expect(required.resource.description).toContain('settled only when none of the wallet');

    const client = x402Client.fromConfig({
      schemes: [{ network: config.network, client: new ExactEvmScheme(buyer) }],
      spendControls: { allowedAssets: [{ network: config.network, asset: local.usdc, maxAmountPerPayment: '10000' }] },
    });
    const answer = await wrapFetchWithPayment(fetch, client)(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { cost: { nanoUsd: string } }).cost.nanoUsd).toBe(chatCostNano.toString());
    expect(decodePaymentResponseHeader(answer.headers.get('payment-response')!)).toMatchObject({
      success: true,
      payer: buyer.address,
    });
    expect(answer.headers.get('x-payment-settled')).toBe('true');
    expect(await usdcBalanceOf(chain.client, local.usdc, buyer.address)).toBe(usdcUnit - quotedUnits);
    expect(await usdOf(buyer)).toBe(quotedUnits * 1_000n - chatCostNano);
  });

  describe('pay-per-request from a wallet whose own balance covers the request', () => {
    /** A wallet holding 1 USDC on chain, linked to an account with `allowanceNano` of DIEM allowance. */
    async function staker(allowanceNano: bigint) {
      const wallet = privateKeyToAccount(generatePrivateKey());
      await fundTestUsdc(chain.deployer, chain.client, local.usdc, wallet.address, 1n * usdcUnit);
      const account = await ledger.createAccount({ name: 'pay-per-request staker' });
      await ledger.linkWallet(account.id, wallet.address);
      await ledger.setDiemAllowance(account.id, epochAt(Date.now()), allowanceNano);
      return { wallet, accountId: account.id };
    }
    const usdcOf = (address: `0x${string}`) => usdcBalanceOf(chain.client, local.usdc, address);
    const diemSpentOf = async (accountId: string) => (await ledger.balance(accountId)).diem.spentNano;
    const paying = (wallet: ReturnType<typeof privateKeyToAccount>) =>
      wrapFetchWithPayment(
        fetch,
        x402Client.fromConfig({
          schemes: [{ network: config.network, client: new ExactEvmScheme(wallet) }],
          spendControls: {
            allowedAssets: [{ network: config.network, asset: local.usdc, maxAmountPerPayment: '10000' }],
          },
        }),
      );
    const chatBody = JSON.stringify({
      model: fakeModels.text,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    });

    it('charges the DIEM allowance and moves no USDC (the payment is verified, not settled)', async () => {
      const { wallet, accountId } = await staker(1n * nanoPerUsd);
      const walletUsdc = await usdcOf(wallet.address);
      const treasuryUsdc = await usdcOf(local.payTo);
      const answer = await paying(wallet)(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chatBody,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-payment-settled')).toBe('false');
      expect(answer.headers.get('x-payment-covered-by')).toBe('DIEM');
      expect(answer.headers.get('payment-response')).toBeNull();
      expect(answer.headers.get('x-wallet-address')).toBe(wallet.address);
      const cost = ((await answer.json()) as { cost: { nanoUsd: string; source: string } }).cost;
      expect(cost).toEqual(expect.objectContaining({ nanoUsd: chatCostNano.toString(), source: 'DIEM' }));
      expect(await usdcOf(wallet.address)).toBe(walletUsdc);
      expect(await usdcOf(local.payTo)).toBe(treasuryUsdc);
      expect(await diemSpentOf(accountId)).toBe(chatCostNano);
      expect(await usdOf(wallet)).toBe(0n);
    });

    it('refuses the same payment a second time, and a payment signed by another key for the wallet', async () => {
      const { wallet, accountId } = await staker(1n * nanoPerUsd);
      const unpaid = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: chatBody });
      const requirements = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!).accepts[0]!;
      const payment = await signExactPayment(wallet, requirements, chainId());
      const send = (body: PaymentPayload) =>
        fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(body) },
          body: chatBody,
        });
      expect((await send(payment)).status).toBe(200);
      const replay = await send(payment);
      expect(replay.status).toBe(402);
      expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('payment_already_used');

      const impostor = privateKeyToAccount(generatePrivateKey());
      const forged = await signExactPayment(impostor, requirements, chainId());
      const claimingWallet = {
        ...payment,
        payload: {
          ...forged.payload,
          authorization: { ...(forged.payload.authorization as object), from: wallet.address },
        },
      };
      const refused = await send(claimingWallet);
      expect(refused.status).toBe(402);
      expect(((await refused.json()) as { invalidReason: string }).invalidReason).toBe(reasons.signature);
      expect(await diemSpentOf(accountId)).toBe(chatCostNano);
    });

    it('settles the payment (USDC moves) when the allowance is too small for the quote', async () => {
      const { wallet, accountId } = await staker(1_000n);
      const walletUsdc = await usdcOf(wallet.address);
      const answer = await paying(wallet)(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chatBody,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-payment-settled')).toBe('true');
      const settled = decodePaymentResponseHeader(answer.headers.get('payment-response')!);
      expect(settled).toMatchObject({ success: true, payer: wallet.address });
      const paidUnits = BigInt(settled.amount ?? '0');
      expect(paidUnits).toBeGreaterThan(0n);
      expect(await usdcOf(wallet.address)).toBe(walletUsdc - paidUnits);
      const cost = ((await answer.json()) as { cost: { source: string } }).cost;
      expect(cost.source).toBe('USD');
      expect(await diemSpentOf(accountId)).toBe(0n);
      expect(await usdOf(wallet)).toBe(paidUnits * 1_000n - chatCostNano);
    });

    it('pays from the USD balance a wallet already has, without settling', async () => {
      const { wallet } = await staker(0n);
      const account = (await ledger.accountByWallet(wallet.address))!;
      await ledger.addFunds({
        accountId: account.id,
        source: 'USD',
        amountNano: nanoPerUsd,
        reference: `t:${wallet.address}`,
      });
      const walletUsdc = await usdcOf(wallet.address);
      const answer = await paying(wallet)(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chatBody,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-payment-covered-by')).toBe('USD');
      expect(await usdcOf(wallet.address)).toBe(walletUsdc);
      expect(await usdOf(wallet)).toBe(nanoPerUsd - chatCostNano);
    });
  });

  it('credits a payment submitted twice at once exactly once (the other is told it is settling)', async () => {
    const requirements = await requirementsFor('2');
    const payment = await signExactPayment(payer, requirements, chainId());
    const before = await usdOf();
    const payerUsdc = await usdcBalanceOf(chain.client, local.usdc, payer.address);
    const answers = await Promise.all([submit('2', payment), submit('2', payment)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await usdOf()).toBe(before + 2n * nanoPerUsd);
    expect(await usdcBalanceOf(chain.client, local.usdc, payer.address)).toBe(payerUsdc - 2n * usdcUnit);
  });

  it('credits a payment submitted again after it settled exactly once (the retry is told so)', async () => {
    const requirements = await requirementsFor('3');
    const payment = await signExactPayment(payer, requirements, chainId());
    const before = await usdOf();
    const first = await submit('3', payment);
    expect(first.status).toBe(200);
    const second = await submit('3', payment);
    expect(second.status).toBe(200);
    const body = (await second.json()) as { data: { credited: boolean } };
    expect(body.data.credited).toBe(false);
    expect(await usdOf()).toBe(before + 3n * nanoPerUsd);
  });

  it('credits a payment settled while the gateway lost the answer when it is resubmitted, once', async () => {
    const requirements = await requirementsFor('1');
    const payment = await signExactPayment(payer, requirements, chainId());
    // Settled directly with the facilitator, as if the gateway had timed out after the settle and before the credit.
    expect((await local.facilitator.settle(payment, requirements)).success).toBe(true);
    const before = await usdOf();
    const retried = await submit('1', payment);
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { data: { credited: boolean } }).data.credited).toBe(true);
    expect((await submit('1', payment)).status).toBe(200);
    expect(await usdOf()).toBe(before + 1n * nanoPerUsd);
  });

  it('answers 504 when the settle answer times out, and credits the payment once when it is resubmitted', async () => {
    const requirements = await requirementsFor('2');
    const payment = await signExactPayment(payer, requirements, chainId());
    const before = await usdOf();
    loseSettleAnswer = true;
    try {
      const timedOut = await submit('2', payment);
      expect(timedOut.status).toBe(504);
      expect(((await timedOut.json()) as { error: { code: string } }).error.code).toBe('facilitator_timeout');
    } finally {
      loseSettleAnswer = false;
    }
    expect(await usdOf()).toBe(before);
    const retried = await submit('2', payment);
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { data: { credited: boolean } }).data.credited).toBe(true);
    const again = await submit('2', payment);
    expect(((await again.json()) as { data: { credited: boolean } }).data.credited).toBe(false);
    expect(await usdOf()).toBe(before + 2n * nanoPerUsd);
  });

  it('credits nothing when the settlement fails (the payer cancels the authorization mid-flight)', async () => {
    const requirements = await requirementsFor('4');
    const payment = await signExactPayment(payer, requirements, chainId());
    const nonce = (payment.payload.authorization as { nonce: `0x${string}` }).nonce;
    beforeSettle = async () => {
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
      const hash = await walletClientFor(chain.client.chain, payer).writeContract({
        address: local.usdc,
        abi: testUsdcAbi,
        functionName: 'cancelAuthorization',
        args: [payer.address, nonce, signature],
      });
      await chain.client.waitForTransactionReceipt({ hash });
    };
    const before = await usdOf();
    const payerUsdc = await usdcBalanceOf(chain.client, local.usdc, payer.address);
    try {
      const answer = await submit('4', payment);
      expect(answer.status).toBe(402);
      const body = (await answer.json()) as { error: { code: string }; invalidReason: string };
      expect(body.error.code).toBe('payment_settlement_failed');
      expect(body.invalidReason).toBe(reasons.nonceUsed);
    } finally {
      beforeSettle = null;
    }
    // Resubmitting finds the nonce used but no transfer to us: still nothing.
    expect((await submit('4', payment)).status).toBe(402);
    expect(await usdOf()).toBe(before);
    expect(await usdcBalanceOf(chain.client, local.usdc, payer.address)).toBe(payerUsdc);
  });

  describe('refuses bad payments with a clear reason, crediting nothing', () => {
    const now = () => BigInt(Math.floor(Date.now() / 1000));
    const stranger = privateKeyToAccount(generatePrivateKey());
    const cases: [string, (r: PaymentRequirements) => Promise<PaymentPayload>, string][] = [
      ['a wrong amount', (r) => signExactPayment(payer, r, chainId(), { value: 1n }), reasons.value],
      ['a wrong recipient', (r) => signExactPayment(payer, r, chainId(), { to: stranger.address }), reasons.recipient],
      ['a wrong asset', (r) => signExactPayment(payer, { ...r, asset: stranger.address }, chainId()), reasons.asset],
      [
        'an expired authorization',
        (r) => signExactPayment(payer, r, chainId(), { validBefore: now() - 1n }),
        reasons.validBefore,
      ],
      [
        'a bad signature',
        async (r) => {
          const payment = await signExactPayment(payer, r, chainId());
          const forged = await signExactPayment(stranger, r, chainId());
          return { ...payment, payload: { ...payment.payload, signature: forged.payload.signature } };
        },
        reasons.signature,
      ],
    ];
    for (const [name, make, reason] of cases) {
      it(name, async () => {
        const requirements = await requirementsFor('1');
        const before = await usdOf();
        const treasury = await usdcBalanceOf(chain.client, local.usdc, local.payTo);
        const answer = await submit('1', await make(requirements));
        expect(answer.status).toBe(402);
        const body = (await answer.json()) as { error: { code: string; message: string }; invalidReason: string };
        expect(body.error.code).toBe('payment_invalid');
        expect(body.invalidReason).toBe(reason);
        expect(decodePaymentRequiredHeader(answer.headers.get('payment-required')!).error).toBe(reason);
        expect(await usdOf()).toBe(before);
        expect(await usdcBalanceOf(chain.client, local.usdc, local.payTo)).toBe(treasury);
      });
    }

    it('a top-up amount of the wrong type, named with the type sent', async () => {
      const answer = await fetch(topUpUrl(), { method: 'POST', body: JSON.stringify({ amountUsd: true }) });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: { message: string; param: string } }).error).toMatchObject({
        param: 'amountUsd',
        message: 'amountUsd must be a decimal USD amount, got a boolean (true)',
      });
    });

    it('a top-up outside the configured minimum and maximum', async () => {
      for (const amountUsd of ['0.5', '101']) {
        const answer = await fetch(topUpUrl(), { method: 'POST', body: JSON.stringify({ amountUsd }) });
        expect(answer.status).toBe(400);
        expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('top_up_out_of_range');
      }
    });
  });

  it('refuses a replayed sign-in nonce and a sign-in for another domain', async () => {
    const headers = await signedBy();
    expect((await chat(headers)).status).toBe(200);
    const replayed = await chat(headers);
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('sign_in_nonce_used');
    const elsewhere = await chat({
      'X-Sign-In-With-X': await signInHeader(payer, { domain: 'evil.test', chainId: chainId() }),
    });
    expect(elsewhere.status).toBe(401);
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe('siwe_domain_mismatch');
    const stale = await chat({
      'X-Sign-In-With-X': await signInHeader(payer, { domain, chainId: chainId() }, new Date(Date.now() - 3_600_000)),
    });
    expect(stale.status).toBe(401);
  });

  it('only lets a wallet read its own balance', async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    const answer = await fetch(`${gateway.url}/api/v1/x402/balance/${payer.address}`, {
      headers: await signedBy(other),
    });
    expect(answer.status).toBe(403);
  });

  it('spends a linked wallet’s DIEM allowance first, then its USD balance', async () => {
    const staker = privateKeyToAccount(generatePrivateKey());
    const account = await ledger.createAccount({ name: 'staker' });
    await ledger.linkWallet(account.id, staker.address);
    await ledger.setDiemAllowance(account.id, epochAt(Date.now()), 1n * nanoPerUsd);
    await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: nanoPerUsd, reference: 'test:staker' });
    const first = await chat(await signedBy(staker));
    expect(((await first.json()) as { cost: { source: string } }).cost.source).toBe('DIEM');
    expect(await usdOf(staker)).toBe(nanoPerUsd);
    await ledger.setDiemAllowance(account.id, epochAt(Date.now()), 0n);
    const second = await chat(await signedBy(staker));
    expect(((await second.json()) as { cost: { source: string } }).cost.source).toBe('USD');
    expect(await usdOf(staker)).toBe(nanoPerUsd - chatCostNano);
  });

  it('tells an empty wallet how to top up', async () => {
    const empty = privateKeyToAccount(generatePrivateKey());
    const answer = await chat(await signedBy(empty));
    expect(answer.status).toBe(402);
    const body = (await answer.json()) as { error: { code: string }; accepts: unknown[] };
    expect(body.error.code).toBe('insufficient_balance');
    expect(body.accepts).toHaveLength(1);
  });

  it('limits the requests a wallet has in flight', () => {
    const limiter = createWalletConcurrency(2);
    expect([limiter.acquire(payer.address), limiter.acquire(payer.address), limiter.acquire(payer.address)]).toEqual([
      true,
      true,
      false,
    ]);
    limiter.release(payer.address);
    expect(limiter.acquire(payer.address)).toBe(true);
  });
});
