/** Limits of wallet sign-in, in one place. */
export const walletTokenTtlMs = 5 * 60_000;
/** A SIWE message issued further in the past than this is refused, even without an expiration time. */
export const siweIssuedAtAgeMaxMs = 10 * 60_000;
/** Clock skew tolerated on a SIWE message's issued-at in the future. */
export const siweClockSkewMaxMs = 60_000;
export const usedNoncesMax = 100_000;
/** Wallets one account may link through `POST /api/v1/wallets/link`; the allowance feed reads each one. */
export const linkedWalletsPerAccountMax = 100;
