/**
 * EIP-3009 `transferWithAuthorization`, as x402's `exact` EVM scheme carries it: the typed-data table every signer and
 * verifier uses, and the parsed authorization of a payment payload.
 */
import type { PaymentPayload } from '@x402/core/types';
import { type Address, getAddress, type Hex } from 'viem';
import { z } from 'zod';

/** The EIP-712 types of an EIP-3009 `TransferWithAuthorization`, the one copy in the project. */
export const transferWithAuthorizationTypes = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

/** The token's EIP-712 domain (from the requirements' `extra.name` and `extra.version`). */
export interface Eip3009Domain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}

/** The signed fields of an authorization. */
export interface Eip3009Message {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

/** A parsed EIP-3009 authorization, as the client signed it. */
export interface Eip3009Authorization extends Eip3009Message {
  signature: Hex;
}

/** The typed data a payer signs and a verifier checks, for viem's `signTypedData` and `verifyTypedData`. */
export function transferWithAuthorizationTypedData(domain: Eip3009Domain, authorization: Eip3009Message) {
  const { from, to, value, validAfter, validBefore, nonce } = authorization;
  return {
    domain,
    types: transferWithAuthorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message: { from, to, value, validAfter, validBefore, nonce },
  } as const;
}

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const uint = z.string().regex(/^\d{1,78}$/);
export const exactEvmPayloadSchema = z.object({
  signature: hex,
  authorization: z.object({
    from: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    to: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    value: uint,
    validAfter: uint,
    validBefore: uint,
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  }),
});

/** The authorization inside an `exact` EVM payload, or null when the payload is not one. */
export function authorizationOf(payload: PaymentPayload): Eip3009Authorization | null {
  const parsed = exactEvmPayloadSchema.safeParse(payload.payload);
  if (!parsed.success) return null;
  const { authorization: a, signature } = parsed.data;
  return {
    from: getAddress(a.from),
    to: getAddress(a.to),
    value: BigInt(a.value),
    validAfter: BigInt(a.validAfter),
    validBefore: BigInt(a.validBefore),
    nonce: a.nonce as Hex,
    signature: signature as Hex,
  };
}
