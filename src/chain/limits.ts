/** Limits of the chain layer, in one place. Units are last in each name. */
import { minuteMs } from '../core/epoch.ts';
export const anvilReadyTimeoutMs = 15_000;
export const anvilStopTimeoutMs = 5_000;
export const receiptTimeoutMs = minuteMs;
/**
 * Gas limit sent with a holder action: the node's estimate × percent / 100 + a fixed amount. The estimate is made on
 * one block and the transaction runs in a later one: when a second has passed, a reward checkpoint writes two
 * zero→non-zero slots (~40k gas) the estimate did not see, and a stake in a new epoch writes a new checkpoint.
 */
export const gasHeadroomPercent = 130n;
export const gasHeadroomFixed = 60_000n;

/** The event follower (src/chain/follower). */
/** Blocks per `eth_getLogs` call; providers cap ranges (often 1,000–10,000 blocks). */
export const logBatchBlocksMax = 1_000;
/** The deepest reorg the follower repairs; a deeper one stops it with ReorgTooDeepError. */
export const reorgDepthMax = 64;
/** Pause between polls once the follower has caught up with the confirmed head. */
export const followerPollIntervalMs = 2_000;
/** Concurrent `eth_getBlockByNumber` calls while fetching one batch's block headers. */
export const followerBlockFetchConcurrencyMax = 16;
/** Polls in a row that may be cut short by a reorg racing the follower before it reports an error. */
export const followerRetryAttemptsMax = 5;
/** Event history pages. */
export const historyPageSizeDefault = 50;
export const historyPageSizeMax = 500;
