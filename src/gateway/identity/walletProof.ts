/**
 * Proof that a wallet controls an address, for the wallet key flow: either an EIP-191 signature over the token
 * itself, or an EIP-4361 (SIWE) message carrying the token's nonce, signed by the address. Signatures are checked
 * with viem's `verifyMessage`, which also accepts EIP-1271 contract wallets where the chain can check them.
 */
import { type Address, getAddress, type Hex, isAddress } from 'viem';
import { parseSiweMessage } from 'viem/siwe';
import { AuthenticationError, InvalidRequestError } from '../../core/errors.ts';
import { siweClockSkewMaxMs, siweIssuedAtAgeMaxMs } from './limits.ts';

export interface WalletProof {
  address: string;
  signature: string;
  token: string;
  /** A SIWE message; when absent, the signature is over the token text (EIP-191). */
  message?: string | undefined;
}

export interface SiweExpectations {
  domain: string;
  chainId: number;
  nonce: string;
  nowMs: number;
}

/** Verifies a signed message for an address; viem's `publicClient.verifyMessage` fits. */
export type VerifyMessage = (args: { address: Address; message: string; signature: Hex }) => Promise<boolean>;

function refuse(message: string, code: string, param: string | null = null): never {
  throw new AuthenticationError(message, { code, param });
}

export function checkedAddress(address: string): Address {
  if (!isAddress(address, { strict: false })) {
    throw new InvalidRequestError('address must be a 0x-prefixed 20-byte hex address', {
      code: 'invalid_value',
      param: 'address',
    });
  }
  return getAddress(address);
}

/** Checks a SIWE message's fields against what this gateway issued; returns the message's address. */
export function checkSiweMessage(text: string, expect: SiweExpectations): Address {
  const message = parseSiweMessage(text);
  if (!message.address || !message.domain || !message.nonce || !message.chainId) {
    refuse('not a valid SIWE (EIP-4361) message', 'invalid_siwe_message', 'message');
  }
  if (message.domain !== expect.domain) {
    refuse(`SIWE domain ${message.domain} is not ${expect.domain}`, 'siwe_domain_mismatch', 'message');
  }
  if (message.chainId !== expect.chainId) {
    refuse(`SIWE chain id ${message.chainId} is not ${expect.chainId}`, 'siwe_chain_mismatch', 'message');
  }
  if (message.nonce !== expect.nonce) refuse('SIWE nonce does not match the token', 'siwe_nonce_mismatch', 'message');
  if (message.expirationTime && message.expirationTime.getTime() <= expect.nowMs) {
    refuse('SIWE message has expired', 'siwe_expired', 'message');
  }
  if (message.notBefore && message.notBefore.getTime() > expect.nowMs + siweClockSkewMaxMs) {
    refuse('SIWE message is not valid yet', 'siwe_not_yet_valid', 'message');
  }
  const issuedAtMs = message.issuedAt?.getTime();
  if (
    issuedAtMs === undefined ||
    issuedAtMs < expect.nowMs - siweIssuedAtAgeMaxMs ||
    issuedAtMs > expect.nowMs + siweClockSkewMaxMs
  ) {
    refuse('SIWE message is not fresh (issued-at too old or in the future)', 'siwe_expired', 'message');
  }
  return message.address;
}

/** Verifies the proof; returns the checksummed address it proves. */
export async function verifyWalletProof(
  proof: WalletProof,
  expect: Omit<SiweExpectations, 'nonce'> & { nonce: string },
  verifyMessage: VerifyMessage,
): Promise<Address> {
  const address = checkedAddress(proof.address);
  if (!/^0x[0-9a-fA-F]+$/.test(proof.signature)) {
    throw new InvalidRequestError('signature must be 0x-prefixed hex', { code: 'invalid_value', param: 'signature' });
  }
  const message = proof.message ?? proof.token;
  if (proof.message !== undefined) {
    const signer = checkSiweMessage(proof.message, expect);
    if (signer !== address) refuse('SIWE message address is not the given address', 'address_mismatch', 'address');
  }
  const valid = await verifyMessage({ address, message, signature: proof.signature as Hex }).catch(() => false);
  if (!valid) refuse('signature does not match the address', 'invalid_signature', 'signature');
  return address;
}
