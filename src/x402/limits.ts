/** Limits of x402 payments, in one place. Units are last in each name. */

/** How long a client's signed authorization may stay valid (PaymentRequirements.maxTimeoutSeconds). */
export const paymentTimeoutSecondsDefault = 300;
/** An authorization that expires sooner than this is refused: it could lapse while the settle is mined. */
export const validBeforeMarginSeconds = 6;
/** Waiting for a settle transaction's receipt. */
export const settleReceiptTimeoutMs = 60_000;
/** Timeout of each call to an external facilitator. */
export const facilitatorRequestTimeoutMs = 30_000;
/** Largest facilitator request body accepted by the local facilitator's HTTP app. */
export const facilitatorRequestBytesMax = 64 * 1024;
