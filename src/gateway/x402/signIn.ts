/**
 * Per-request wallet sign-in, in Venice's shape: the header `X-Sign-In-With-X` (or `SIGN-IN-WITH-X`) carries
 * base64(JSON `{address, message, signature, timestamp, chainId}`), where `message` is an EIP-4361 (SIWE) message
 * for this gateway's domain and chain, with a fresh issued-at and a nonce the wallet uses once.
 */
import type { Address, Hex } from 'viem';
import { parseSiweMessage } from 'viem/siwe';
import { z } from 'zod';
import { AuthenticationError } from '../../core/errors.ts';
import { siweClockSkewMaxMs, siweIssuedAtAgeMaxMs } from '../identity/limits.ts';
import { checkedAddress, checkSiweMessage, type VerifyMessage } from '../identity/walletProof.ts';
import type { NonceStore } from '../identity/walletToken.ts';
import { signInHeaderBytesMax } from './limits.ts';

export const signInHeaderNames = ['x-sign-in-with-x', 'sign-in-with-x'] as const;

export interface SignInDeps {
  domain: string;
  chainId: number;
  verifyMessage: VerifyMessage;
  nonces: NonceStore;
}

const payloadSchema = z.object({
  address: z.string(),
  message: z.string(),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
  timestamp: z.number().optional(),
  chainId: z.union([z.number(), z.string()]).optional(),
});

function refuse(message: string, code: string): never {
  throw new AuthenticationError(message, { code, param: 'X-Sign-In-With-X' });
}

/** The header's value, from whichever of its names was sent; undefined when none was. */
export function signInHeaderOf(header: (name: string) => string | undefined): string | undefined {
  for (const name of signInHeaderNames) {
    const value = header(name);
    if (value !== undefined) return value;
  }
  return undefined;
}

function decode(header: string): z.infer<typeof payloadSchema> {
  if (header.length > signInHeaderBytesMax) refuse('sign-in header is too long', 'invalid_sign_in');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    refuse('sign-in header is not base64 JSON', 'invalid_sign_in');
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) refuse('sign-in header needs address, message and signature', 'invalid_sign_in');
  return parsed.data;
}

/** Verifies the header and spends its nonce; returns the signed-in wallet. */
export async function verifySignIn(header: string, deps: SignInDeps, nowMs: number): Promise<Address> {
  const payload = decode(header);
  const address = checkedAddress(payload.address);
  const nonce = parseSiweMessage(payload.message).nonce;
  if (!nonce) refuse('SIWE message has no nonce', 'invalid_siwe_message');
  const signer = checkSiweMessage(payload.message, { domain: deps.domain, chainId: deps.chainId, nonce, nowMs });
  if (signer !== address) refuse('SIWE message address is not the given address', 'address_mismatch');
  const valid = await deps
    .verifyMessage({ address, message: payload.message, signature: payload.signature as Hex })
    .catch(() => false);
  if (!valid) refuse('sign-in signature does not match the address', 'invalid_signature');
  const expiresAtMs = nowMs + siweIssuedAtAgeMaxMs + siweClockSkewMaxMs;
  if (!(await deps.nonces.consume(`siwx:${address}:${nonce}`, expiresAtMs, nowMs))) {
    refuse('sign-in nonce was already used; sign a new message for each request', 'sign_in_nonce_used');
  }
  return address;
}
