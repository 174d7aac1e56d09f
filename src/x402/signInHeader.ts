/**
 * The client side of per-request wallet sign-in: builds an `X-Sign-In-With-X` header value (base64 JSON
 * `{address, message, signature, timestamp, chainId}`, `message` a SIWE message with a fresh random nonce), in
 * Venice's shape. Sign a new one for every request: the gateway accepts each nonce once.
 */
import { randomBytes } from 'node:crypto';
import type { LocalAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { signInMessageTtlMs } from './limits.ts';

export interface SignInTarget {
  /** The gateway's host, e.g. "127.0.0.1:8787". */
  domain: string;
  chainId: number;
  /** Default `http://<domain>`. */
  uri?: string;
}

export async function signInHeader(
  account: LocalAccount,
  target: SignInTarget,
  now: Date = new Date(),
  nonce: string = randomBytes(8).toString('hex'),
): Promise<string> {
  const message = createSiweMessage({
    domain: target.domain,
    address: account.address,
    statement: 'Sign in to perdiem',
    uri: target.uri ?? `http://${target.domain}`,
    version: '1',
    chainId: target.chainId,
    nonce,
    issuedAt: now,
    expirationTime: new Date(now.getTime() + signInMessageTtlMs),
  });
  const signature = await account.signMessage({ message });
  const payload = { address: account.address, message, signature, timestamp: now.getTime(), chainId: target.chainId };
  return Buffer.from(JSON.stringify(payload)).toString('base64');
}
