/**
 * Sign-in with Ethereum: the wallet signs a SIWE message carrying a nonce from `GET generate_web3_key`, and the
 * gateway answers with an ADMIN key for the wallet's account (created and linked on first use). The key lives for a
 * day and only in this tab (sessionStorage); signing out revokes it.
 */
import { createSiweMessage } from 'viem/siwe';
import { dayMs } from '../../src/core/epoch.ts';
import { GatewayError } from '../../src/core/gatewayError.ts';
import { apiJson, type CreatedKey } from './api.ts';
import type { Wallet } from './chain.ts';

export interface Session {
  address: string;
  apiKey: string;
  keyId: string;
}

const sessionTtlMs = dayMs;
const storageKey = (address: string) => `perdiem.session.${address.toLowerCase()}`;

export function storedSession(address: string): Session | null {
  const text = sessionStorage.getItem(storageKey(address));
  return text ? (JSON.parse(text) as Session) : null;
}

export function forgetSession(address: string): void {
  sessionStorage.removeItem(storageKey(address));
}

/** The nonce inside a wallet token (`base64url(payload).mac`). */
export function tokenNonce(token: string): string {
  const encoded = token.split('.')[0] ?? '';
  const json = atob(encoded.replaceAll('-', '+').replaceAll('_', '/'));
  return (JSON.parse(json) as { nonce: string }).nonce;
}

async function walletToken(): Promise<string> {
  return (await apiJson<{ data: { token: string } }>('/api/v1/api_keys/generate_web3_key')).data.token;
}

async function redeem(wallet: Wallet, proof: { token: string; signature: string; message?: string }) {
  const expiresAt = new Date(Date.now() + sessionTtlMs).toISOString();
  return apiJson<{ data: CreatedKey }>('/api/v1/api_keys/generate_web3_key', {
    json: {
      address: wallet.address,
      apiKeyType: 'ADMIN',
      description: `dashboard sign-in ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
      expiresAt,
      ...proof,
    },
  });
}

export async function signIn(wallet: Wallet): Promise<Session> {
  const token = await walletToken();
  const message = createSiweMessage({
    address: wallet.address,
    chainId: wallet.client.chain.id,
    domain: window.location.host,
    nonce: tokenNonce(token),
    uri: window.location.origin,
    version: '1',
    issuedAt: new Date(),
    statement: 'Sign in to the perdiem dashboard.',
  });
  let created: CreatedKey;
  try {
    const signature = await wallet.client.signMessage({ account: wallet.client.account, message });
    created = (await redeem(wallet, { token, signature, message })).data;
  } catch (error) {
    // A gateway configured with another SIWE domain (e.g. started on port 0) still accepts the plain EIP-191
    // proof: the wallet's signature over a fresh token.
    if (!(error instanceof GatewayError && error.code === 'siwe_domain_mismatch')) throw error;
    const fresh = await walletToken();
    const signature = await wallet.client.signMessage({ account: wallet.client.account, message: fresh });
    created = (await redeem(wallet, { token: fresh, signature })).data;
  }
  const session = { address: wallet.address, apiKey: created.apiKey, keyId: created.id };
  sessionStorage.setItem(storageKey(wallet.address), JSON.stringify(session));
  return session;
}

export async function signOut(session: Session): Promise<void> {
  forgetSession(session.address);
  await apiJson(`/api/v1/api_keys?id=${encodeURIComponent(session.keyId)}`, {
    bearer: session.apiKey,
    method: 'DELETE',
  }).catch(() => undefined);
}
