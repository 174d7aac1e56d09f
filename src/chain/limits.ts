/** Limits of the chain layer, in one place. Units are last in each name. */
export const anvilReadyTimeoutMs = 15_000;
export const anvilStopTimeoutMs = 5_000;
export const receiptTimeoutMs = 60_000;
