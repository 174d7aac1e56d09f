/**
 * The account's wallet routes in-process: a key of the account links more wallets by their signature (EIP-191 or
 * SIWE), lists them oldest first, and the feed is told at once, so the balance is the sum; every refusal (another
 * account's wallet, bad or foreign signature, expired, reused or foreign token, bad SIWE fields, bad body, no key) is
 * OpenAI-shaped and changes nothing.
 */
import { type Address, verifyMessage } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { type InProcessGateway, startInProcessGateway } from '../testing/inProcess.ts';
import { linkedWalletsPerAccountMax, walletTokenTtlMs } from './limits.ts';
import { createMemoryNonceStore } from './walletToken.ts';

const domain = 'gateway.test:8787';
const chainId = 31337;
const usd = (dollars: number) => BigInt(dollars) * 1_000_000_000n;

interface WalletView {
  address: string;
  linkedAt: string;
}

describe('GET|POST /api/v1/wallets/link and GET /api/v1/wallets', () => {
  let gw: InProcessGateway;
  /** What the allowance feed was told, and each wallet's on-chain allowance it then records. */
  let fed: { accountId: string; address: Address }[];
  let onChainNano: Map<string, bigint>;
  let feedFails: boolean;

  beforeEach(async () => {
    fed = [];
    onChainNano = new Map();
    feedFails = false;
    gw = await startInProcessGateway({
      diemNano: 0n,
      walletKeys: {
        tokenSecret: new Uint8Array(32).fill(7),
        nonces: createMemoryNonceStore(),
        domain,
        chainId,
        verifyMessage: (args) => verifyMessage(args),
        svvvStakeOf: async () => 1n,
        onWalletLinked: async (wallet) => {
          fed.push(wallet);
          if (feedFails) throw new Error('RPC down');
          const epoch = epochAt(gw.clock.now());
          await gw.ledger.setWalletAllowance(wallet.address, epoch, onChainNano.get(wallet.address) ?? 0n);
        },
      },
    });
  });
  afterEach(async () => gw?.close());

  async function linkToken(key: string = gw.apiKey): Promise<string> {
    const response = await gw.request('/api/v1/wallets/link', { key });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { token: string; domain: string; chainId: number } };
    expect(data).toMatchObject({ domain, chainId });
    return data.token;
  }

  function link(body: unknown, key: string | null = gw.apiKey) {
    return gw.request('/api/v1/wallets/link', { key, json: body });
  }

  async function signed(wallet = privateKeyToAccount(generatePrivateKey()), token?: string) {
    const issued = token ?? (await linkToken());
    return { address: wallet.address, signature: await wallet.signMessage({ message: issued }), token: issued };
  }

  function siwe(address: Address, token: string, overrides: { domain?: string; chainId?: number } = {}) {
    const nonce = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).nonce as string;
    return createSiweMessage({
      address,
      chainId: overrides.chainId ?? chainId,
      domain: overrides.domain ?? domain,
      nonce,
      uri: `http://${domain}`,
      version: '1',
      issuedAt: new Date(gw.clock.now()),
    });
  }

  async function wallets(key: string = gw.apiKey): Promise<WalletView[]> {
    const response = await gw.request('/api/v1/wallets', { key });
    expect(response.status).toBe(200);
    return ((await response.json()) as { object: string; data: WalletView[] }).data;
  }

  async function errorOf(response: Response) {
    return ((await response.json()) as { error: { message: string; code: string; type: string; param: unknown } })
      .error;
  }

  async function expectRefused(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    const error = await errorOf(response);
    expect(error.code).toBe(code);
    expect(typeof error.message).toBe('string');
    expect(typeof error.type).toBe('string');
    expect(error).toHaveProperty('param');
  }

  it('links wallets by EIP-191 and SIWE signatures, lists them oldest first, and the balance is their sum', async () => {
    const first = privateKeyToAccount(generatePrivateKey());
    const second = privateKeyToAccount(generatePrivateKey());
    onChainNano.set(first.address, usd(3));
    onChainNano.set(second.address, usd(4));
    expect(await wallets()).toEqual([]);

    const linked = await link(await signed(first));
    expect(linked.status).toBe(201);
    const firstView = ((await linked.json()) as { data: WalletView }).data;
    expect(firstView).toEqual({ address: first.address, linkedAt: new Date(gw.clock.now()).toISOString() });
    expect(fed).toEqual([{ accountId: gw.accountId, address: first.address }]);

    gw.clock.advance(1_000);
    // An ADMIN key of the account links as well; this one with a SIWE message.
    const token = await linkToken(gw.adminKey);
    const message = siwe(second.address, token);
    const bySiwe = await link(
      { address: second.address, signature: await second.signMessage({ message }), token, message },
      gw.adminKey,
    );
    expect(bySiwe.status).toBe(201);
    expect(fed.at(-1)).toEqual({ accountId: gw.accountId, address: second.address });

    expect(await wallets()).toEqual([
      firstView,
      { address: second.address, linkedAt: new Date(gw.clock.now()).toISOString() },
    ]);
    const balance = await gw.request('/api/v1/billing/balance');
    expect(((await balance.json()) as { diemEpochAllocation: number }).diemEpochAllocation).toBe(7);
    expect((await gw.ledger.accountByWallet(second.address))?.id).toBe(gw.accountId);
  });

  it('answers 200 with the first link when the wallet is linked to this account already', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    expect((await link(await signed(wallet))).status).toBe(201);
    const before = await wallets();
    gw.clock.advance(5_000);
    const again = await link(await signed(wallet));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { data: WalletView }).data).toEqual(before[0]);
    expect(await wallets()).toEqual(before);
  });

  it("refuses another account's wallet with 409 wallet_linked, and neither the wallet nor the token changes", async () => {
    const theirs = privateKeyToAccount(generatePrivateKey());
    const other = await gw.ledger.createAccount();
    await gw.ledger.linkWallet(other.id, theirs.address);
    const token = await linkToken();

    await expectRefused(await link(await signed(theirs, token)), 409, 'wallet_linked');
    expect((await gw.ledger.accountByWallet(theirs.address))?.id).toBe(other.id);
    expect(await wallets()).toEqual([]);
    expect(fed).toEqual([]);

    // The token was not spent: another wallet signs the same token and is linked.
    const mine = privateKeyToAccount(generatePrivateKey());
    expect((await link(await signed(mine, token))).status).toBe(201);
  });

  it('refuses a signature by another wallet (401) and spends no token', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const token = await linkToken();
    const impostor = await privateKeyToAccount(generatePrivateKey()).signMessage({ message: token });
    await expectRefused(await link({ address: wallet.address, signature: impostor, token }), 401, 'invalid_signature');
    expect(await gw.ledger.accountByWallet(wallet.address)).toBeNull();
    expect((await link(await signed(wallet, token))).status).toBe(201);
  });

  it('refuses a reused token (401 token_used) and an expired one (401 token_expired)', async () => {
    const body = await signed();
    expect((await link(body)).status).toBe(201);
    await expectRefused(await link(body), 401, 'token_used');

    const wallet = privateKeyToAccount(generatePrivateKey());
    const late = await signed(wallet);
    gw.clock.advance(walletTokenTtlMs);
    await expectRefused(await link(late), 401, 'token_expired');
    expect(await gw.ledger.accountByWallet(wallet.address)).toBeNull();
  });

  it("refuses another account's link token, a key-flow token, and a link token in the key flow (401 invalid_token)", async () => {
    const other = await gw.ledger.createAccount();
    const otherKey = (await gw.ledger.createKey({ accountId: other.id, kind: 'INFERENCE', name: 'other' })).secret;
    const wallet = privateKeyToAccount(generatePrivateKey());

    // A signature the wallet gave for this account cannot link it to the other one.
    const forThisAccount = await signed(wallet);
    await expectRefused(await link(forThisAccount, otherKey), 401, 'invalid_token');

    const keyFlow = await gw.request('/api/v1/api_keys/generate_web3_key', { key: null });
    const keyFlowToken = ((await keyFlow.json()) as { data: { token: string } }).data.token;
    await expectRefused(await link(await signed(wallet, keyFlowToken)), 401, 'invalid_token');

    const asKey = await gw.request('/api/v1/api_keys/generate_web3_key', {
      key: null,
      json: { apiKeyType: 'INFERENCE', description: 'x', ...forThisAccount },
    });
    await expectRefused(asKey, 401, 'invalid_token');
    expect(await gw.ledger.accountByWallet(wallet.address)).toBeNull();
    expect((await link(forThisAccount)).status).toBe(201);
  });

  it('refuses a SIWE message for another domain or chain, or by another address (401)', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const token = await linkToken();
    const cases: [string, string][] = [
      [siwe(wallet.address, token, { domain: 'evil.test' }), 'siwe_domain_mismatch'],
      [siwe(wallet.address, token, { chainId: 1 }), 'siwe_chain_mismatch'],
      [siwe(privateKeyToAccount(generatePrivateKey()).address, token), 'address_mismatch'],
    ];
    for (const [message, code] of cases) {
      const signature = await wallet.signMessage({ message });
      await expectRefused(await link({ address: wallet.address, signature, token, message }), 401, code);
    }
    expect(await gw.ledger.accountByWallet(wallet.address)).toBeNull();
  });

  it('refuses malformed bodies (400) and calls without a key (401)', async () => {
    const body = await signed();
    await expectRefused(await link({ ...body, address: 'not-an-address' }), 400, 'invalid_value');
    await expectRefused(await link({ ...body, signature: 'zz' }), 400, 'invalid_value');
    const { signature: _dropped, ...unsigned } = body;
    expect((await link(unsigned)).status).toBe(400);
    expect((await gw.request('/api/v1/wallets/link', { method: 'POST', body: '{' })).status).toBe(400);
    await expectRefused(await gw.request('/api/v1/wallets', { key: null }), 401, 'missing_api_key');
    await expectRefused(await gw.request('/api/v1/wallets/link', { key: null }), 401, 'missing_api_key');
    await expectRefused(await link(body, null), 401, 'missing_api_key');
    expect(await wallets()).toEqual([]);
    expect((await link(body)).status).toBe(201);
  });

  it(`refuses a wallet past ${linkedWalletsPerAccountMax} per account (400 too_many_wallets)`, async () => {
    for (let i = 0; i < linkedWalletsPerAccountMax; i++) {
      await gw.ledger.linkWallet(gw.accountId, privateKeyToAccount(generatePrivateKey()).address);
    }
    const body = await signed();
    await expectRefused(await link(body), 400, 'too_many_wallets');
    expect(await gw.ledger.accountByWallet(body.address)).toBeNull();
  });

  it('keeps the link when the allowance feed cannot read the chain now', async () => {
    feedFails = true;
    const body = await signed();
    expect((await link(body)).status).toBe(201);
    expect(fed.map((wallet) => wallet.address)).toEqual([body.address]);
    expect((await wallets()).map((wallet) => wallet.address)).toEqual([body.address]);
  });
});

describe('wallet routes without wallet sign-in', () => {
  it('lists the wallets; linking does not exist (404)', async () => {
    const gw = await startInProcessGateway();
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      await gw.ledger.linkWallet(gw.accountId, wallet.address);
      const list = await gw.request('/api/v1/wallets');
      expect(((await list.json()) as { data: WalletView[] }).data.map((view) => view.address)).toEqual([
        wallet.address,
      ]);
      expect((await gw.request('/api/v1/wallets/link')).status).toBe(404);
    } finally {
      await gw.close();
    }
  });
});
