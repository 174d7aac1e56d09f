/**
 * Short-lived, single-use tokens for the wallet key flow (`GET|POST /api/v1/api_keys/generate_web3_key`) and for
 * linking a wallet to an account (`GET|POST /api/v1/wallets/link`). A token is
 * `base64url(payload).base64url(HMAC-SHA256(secret, payload))`; its nonce is consumed on redemption, so a token (and
 * the signature over it) works once. A link token names the account that asked for it and works only for that
 * account; a key-flow token names none and links nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../../core/errors.ts';
import { usedNoncesMax, walletTokenTtlMs } from './limits.ts';

export interface WalletTokenPayload {
  nonce: string;
  issuedAtMs: number;
  expiresAtMs: number;
  /** On a link token: the account the wallet is linked to. */
  linkTo?: string;
}

/** Remembers consumed nonces until they expire. One process; a shared store is needed for replicas. */
export interface NonceStore {
  /** True the first time a nonce is consumed, false on every later try. */
  consume(nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

export function createMemoryNonceStore(): NonceStore {
  const used = new Map<string, number>();
  return {
    async consume(nonce, expiresAtMs, nowMs) {
      if (used.has(nonce)) return false;
      if (used.size >= usedNoncesMax) {
        for (const [key, expiry] of used) if (expiry <= nowMs) used.delete(key);
      }
      used.set(nonce, expiresAtMs);
      return true;
    },
  };
}

function sign(secret: Uint8Array, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/** SIWE nonces are alphanumeric, at least 8 characters (EIP-4361). */
export function issueWalletToken(
  secret: Uint8Array,
  nowMs: number,
  linkTo?: string,
): { token: string; payload: WalletTokenPayload } {
  const payload: WalletTokenPayload = {
    nonce: randomBytes(16).toString('hex'),
    issuedAtMs: nowMs,
    expiresAtMs: nowMs + walletTokenTtlMs,
    ...(linkTo === undefined ? {} : { linkTo }),
  };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return { token: `${encoded}.${sign(secret, encoded)}`, payload };
}

function refuse(message: string, code: string): never {
  throw new AuthenticationError(message, { code, param: 'token' });
}

/** Checks the token's MAC, use (`linkTo`: the account a link token must name) and expiry; it does not consume it. */
export function readWalletToken(secret: Uint8Array, token: string, nowMs: number, linkTo?: string): WalletTokenPayload {
  const [encoded, mac, extra] = token.split('.');
  if (!encoded || !mac || extra !== undefined) refuse('malformed wallet token', 'invalid_token');
  const expected = Buffer.from(sign(secret, encoded));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    refuse('wallet token was not issued here', 'invalid_token');
  const payload = JSON.parse(Buffer.from(encoded, 'base64url').toString()) as WalletTokenPayload;
  if (payload.linkTo !== linkTo) {
    refuse(
      linkTo === undefined
        ? 'a wallet link token makes no key'
        : 'wallet token was not issued for linking a wallet to this account',
      'invalid_token',
    );
  }
  if (payload.expiresAtMs <= nowMs) refuse('wallet token has expired; request a new one', 'token_expired');
  return payload;
}
