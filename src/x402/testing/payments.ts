/** Signing x402 `exact` EVM payments in tests, the way `@x402/evm`'s client does, with knobs to break them. */
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { type Address, getAddress, type Hex, toHex } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { transferWithAuthorizationTypedData } from '../eip3009.ts';

export interface AuthorizationOverrides {
  to?: Address;
  value?: bigint;
  validAfter?: bigint;
  validBefore?: bigint;
  nonce?: Hex;
  /** Sign under this token's domain instead of the requirements' asset. */
  verifyingContract?: Address;
  chainId?: number;
}

export function randomNonce(): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

export async function signExactPayment(
  payer: PrivateKeyAccount,
  requirements: PaymentRequirements,
  chainId: number,
  overrides: AuthorizationOverrides = {},
  nowSeconds = BigInt(Math.floor(Date.now() / 1000)),
): Promise<PaymentPayload> {
  const authorization = {
    from: payer.address,
    to: overrides.to ?? getAddress(requirements.payTo),
    value: overrides.value ?? BigInt(requirements.amount),
    validAfter: overrides.validAfter ?? 0n,
    validBefore: overrides.validBefore ?? nowSeconds + BigInt(requirements.maxTimeoutSeconds),
    nonce: overrides.nonce ?? randomNonce(),
  };
  const domain = {
    name: requirements.extra.name as string,
    version: requirements.extra.version as string,
    chainId: overrides.chainId ?? chainId,
    verifyingContract: overrides.verifyingContract ?? getAddress(requirements.asset),
  };
  const signature = await payer.signTypedData(transferWithAuthorizationTypedData(domain, authorization));
  return {
    x402Version: 2,
    accepted: requirements,
    payload: {
      signature,
      authorization: {
        ...authorization,
        value: authorization.value.toString(),
        validAfter: authorization.validAfter.toString(),
        validBefore: authorization.validBefore.toString(),
      },
    },
  };
}
