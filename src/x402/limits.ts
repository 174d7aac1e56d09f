/** Limits of x402 payments, in one place. Units are last in each name. */
import { minuteMs } from '../core/epoch.ts';

/** How long a client's signed authorization may stay valid (PaymentRequirements.maxTimeoutSeconds). */
export const paymentTimeoutSecondsDefault = 300;
/** An authorization that expires sooner than this is refused: it could lapse while the settle is mined. */
export const validBeforeMarginSeconds = 6;
/** Waiting for a settle transaction's receipt. */
export const settleReceiptTimeoutMs = minuteMs;
/** How long a sign-in message (SIWE `expirationTime`) signed by `signInHeader` stays valid. */
export const signInMessageTtlMs = 5 * minuteMs;
/** Timeout of each call to an external facilitator. */
export const facilitatorRequestTimeoutMs = 30_000;
/** Largest facilitator request body accepted by the local facilitator's HTTP app. */
export const facilitatorRequestBytesMax = 64 * 1024;
