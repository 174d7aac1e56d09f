import { createPublicClient, http } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { createSiweMessage } from 'viem/siwe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnvilInstance, startAnvil } from '../../chain/anvil.ts';
import { AuthenticationError } from '../../core/errors.ts';
import { type VerifyMessage, verifyWalletProof } from './walletProof.ts';
import { createMemoryNonceStore, issueWalletToken, readWalletToken } from './walletToken.ts';

const secret = new Uint8Array(32).fill(7);
const domain = 'gateway.example';
const chainId = 31337;
const now = Date.UTC(2026, 10, 23, 12);
const wallet = privateKeyToAccount(generatePrivateKey());

function siwe(overrides: Partial<Parameters<typeof createSiweMessage>[0]> & { nonce: string }) {
  return createSiweMessage({
    address: wallet.address,
    chainId,
    domain,
    uri: `https://${domain}`,
    version: '1',
    issuedAt: new Date(now - 1_000),
    ...overrides,
  });
}

async function refusalCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  return (error as AuthenticationError).code;
}

describe('wallet tokens', () => {
  it('reads back a token it issued, and refuses a forged or expired one', () => {
    const { token, payload } = issueWalletToken(secret, now);
    expect(readWalletToken(secret, token, now)).toEqual(payload);
    expect(() => readWalletToken(new Uint8Array(32), token, now)).toThrow(/not issued here/);
    expect(() => readWalletToken(secret, `${token}x`, now)).toThrow(AuthenticationError);
    expect(() => readWalletToken(secret, token, payload.expiresAtMs)).toThrow(/expired/);
  });

  it('consumes a nonce once', async () => {
    const nonces = createMemoryNonceStore();
    expect(await nonces.consume('abc', now + 1, now)).toBe(true);
    expect(await nonces.consume('abc', now + 1, now)).toBe(false);
  });
});

describe('wallet proofs', () => {
  let anvil: AnvilInstance;
  let verifyMessage: VerifyMessage;
  beforeAll(async () => {
    anvil = await startAnvil();
    const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) });
    verifyMessage = (args) => client.verifyMessage(args);
  });
  afterAll(() => anvil?.stop());

  const expectations = (nonce: string) => ({ domain, chainId, nonce, nowMs: now });

  it('accepts an EIP-191 signature over the token', async () => {
    const { token, payload } = issueWalletToken(secret, now);
    const signature = await wallet.signMessage({ message: token });
    const proof = { address: wallet.address.toLowerCase(), signature, token };
    expect(await verifyWalletProof(proof, expectations(payload.nonce), verifyMessage)).toBe(wallet.address);
  });

  it('accepts a SIWE message with the token nonce, domain and chain id', async () => {
    const { token, payload } = issueWalletToken(secret, now);
    const message = siwe({ nonce: payload.nonce });
    const signature = await wallet.signMessage({ message });
    expect(
      await verifyWalletProof(
        { address: wallet.address, signature, token, message },
        expectations(payload.nonce),
        verifyMessage,
      ),
    ).toBe(wallet.address);
  });

  it('refuses a signature by another wallet', async () => {
    const { token, payload } = issueWalletToken(secret, now);
    const signature = await privateKeyToAccount(generatePrivateKey()).signMessage({ message: token });
    const proof = { address: wallet.address, signature, token };
    expect(await refusalCode(verifyWalletProof(proof, expectations(payload.nonce), verifyMessage))).toBe(
      'invalid_signature',
    );
  });

  it.each([
    ['a wrong domain', { domain: 'evil.example' }, 'siwe_domain_mismatch'],
    ['a wrong chain id', { chainId: 8453 }, 'siwe_chain_mismatch'],
    ['an expired message', { expirationTime: new Date(now - 1) }, 'siwe_expired'],
    ['a stale issued-at', { issuedAt: new Date(now - 3_600_000) }, 'siwe_expired'],
    ['another nonce', { nonce: 'ffffffffffffffff' }, 'siwe_nonce_mismatch'],
  ])('refuses a SIWE message with %s', async (_label, overrides, code) => {
    const { token, payload } = issueWalletToken(secret, now);
    const message = siwe({ nonce: payload.nonce, ...overrides });
    const signature = await wallet.signMessage({ message });
    const proof = { address: wallet.address, signature, token, message };
    expect(await refusalCode(verifyWalletProof(proof, expectations(payload.nonce), verifyMessage))).toBe(code);
  });
});
