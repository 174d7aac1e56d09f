/** What the gateway needs to take wallet payments: the asset, where it goes, the facilitator, sign-in checks. */
import type { Network } from '@x402/core/types';
import type { Address } from 'viem';
import type { PublicClient } from '../../chain/clients.ts';
import type { NanoUsd } from '../../core/money.ts';
import type { Facilitator } from '../../x402/facilitatorTypes.ts';
import type { VerifyMessage } from '../identity/walletProof.ts';
import type { NonceStore } from '../identity/walletToken.ts';

export interface X402Config {
  /** `eip155:<chainId>`. */
  network: Network;
  /** An EIP-3009 token with 6 decimals (USDC, or TestUSDC locally) and its EIP-712 domain. */
  asset: Address;
  eip712: { name: string; version: string };
  /** The operator's address that receives payments. */
  payTo: Address;
  /** The local facilitator, or `new HTTPFacilitatorClient({url})` for an external one. */
  facilitator: Facilitator;
  /** Reads the chain to recover a payment that was settled but not credited (a retry after a timeout). */
  chain: PublicClient;
  /** Sign-in (`X-Sign-In-With-X`): the SIWE domain and chain id, signature checks, single-use nonces. */
  signIn: { domain: string; chainId: number; verifyMessage: VerifyMessage; nonces: NonceStore };
  topUpMinNano?: NanoUsd;
  topUpMaxNano?: NanoUsd;
  walletConcurrentRequestsMax?: number;
  /** Text requests without credentials may pay for themselves with x402 `exact` (default true). */
  payPerRequest?: boolean;
  /** PaymentRequirements.maxTimeoutSeconds. */
  paymentTimeoutSeconds?: number;
}
