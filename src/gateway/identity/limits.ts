/** Limits of wallet sign-in, in one place. */
import { minuteMs } from '../../core/epoch.ts';
export const walletTokenTtlMs = 5 * minuteMs;
/** A SIWE message issued further in the past than this is refused, even without an expiration time. */
export const siweIssuedAtAgeMaxMs = 10 * minuteMs;
/** Clock skew tolerated on a SIWE message's issued-at in the future. */
export const siweClockSkewMaxMs = minuteMs;
export const usedNoncesMax = 100_000;
/** Wallets one account may link through `POST /api/v1/wallets/link`; the allowance feed reads each one. */
export const linkedWalletsPerAccountMax = 100;
