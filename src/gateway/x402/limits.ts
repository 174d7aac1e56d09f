/** Limits of wallet payments at the gateway, in one place. Units are last in each name. */
import { nanoPerUsd } from '../../core/money.ts';

export const topUpMinNanoDefault = 5n * nanoPerUsd;
export const topUpMaxNanoDefault = 1_000n * nanoPerUsd;
/** Requests one wallet may have in flight at once. */
export const walletConcurrentRequestsMaxDefault = 4;
/** A sign-in header longer than this is refused before it is decoded. */
export const signInHeaderBytesMax = 8 * 1024;
/** How far back a resubmitted payment's settlement is looked for on chain. */
export const settledLookbackBlocks = 10_000n;
/** Transactions listed per page at most. */
export const transactionsPageMax = 100;
/** USDC has 6 decimals; nano-USD has 9: one USDC unit is 1,000 nano-USD, exactly. */
export const nanoPerUsdcUnit = 1_000n;
