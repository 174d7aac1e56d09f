/**
 * A facilitator verifies and settles x402 payments. The gateway holds one: the local facilitator (this project's,
 * against the configured chain) or a client of an external one (`HTTPFacilitatorClient` from `@x402/core/server`,
 * for real networks). Both have this shape, which is x402's `FacilitatorClient`.
 */
import type {
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  SupportedResponse,
  VerifyResponse,
} from '@x402/core/types';

export interface Facilitator {
  verify(paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements): Promise<SettleResponse>;
  getSupported(): Promise<SupportedResponse>;
}
