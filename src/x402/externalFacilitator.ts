/**
 * A facilitator run by someone else (e.g. the x402 Foundation's or Coinbase's for Base USDC), reached over x402 v2's
 * facilitator API with `@x402/core`'s own HTTP client. Use it instead of the local facilitator on real networks.
 */
import { HTTPFacilitatorClient } from '@x402/core/server';
import type { Facilitator } from './facilitatorTypes.ts';
import { facilitatorRequestTimeoutMs } from './limits.ts';

export function externalFacilitator(url: string, timeoutMs: number = facilitatorRequestTimeoutMs): Facilitator {
  return new HTTPFacilitatorClient({ url, timeoutMs });
}
