/** Every limit of the gateway, in one place. Units are last in each name. */
import { minuteMs } from '../core/epoch.ts';
export const gatewayLimits = {
  /** A request body; a larger one is a 400 before it is parsed. */
  requestBodyBytesMax: 1024 * 1024,
  /** Output tokens reserved for a request with no max_tokens, when the model's context does not bound it lower. */
  outputTokensMax: 4_096,
  /**
   * Prompt tokens are bounded before the upstream counts them: every tokenizer perdiem serves (byte-level BPE and
   * SentencePiece with byte fallback) emits at most one token per UTF-8 byte, plus a word-boundary marker. These
   * overheads cover chat-template tokens per message and per request (BOS, the assistant turn opener).
   */
  promptTokensPerMessageOverhead: 16,
  promptTokensPerRequestOverhead: 16,
  /**
   * How long a reservation holds funds after its gateway's last sweeper pass. A live gateway renews its holds every
   * pass, so this bounds only how long a dead gateway's holds last before another gateway's sweeper (or its own
   * restart) releases them.
   */
  reservationTtlMs: 2 * minuteMs,
  /** Client-supplied Idempotency-Key. */
  idempotencyKeyLengthMax: 255,
  /** Messages in one chat request and prompts/inputs in one completion/embedding request. */
  messagesMax: 2_048,
  inputsMax: 256,
  /** Usage-history page size and CSV export rows. */
  usageHistoryPageSizeMax: 500,
  /** Distinct key/account rate-limit buckets kept in memory before the least recently used are dropped. */
  rateLimitBucketsMax: 100_000,
  /**
   * How long a gateway trusts a key it authenticated without asking the ledger again: the longest a key revoked or
   * changed through another gateway still passes this one's non-metered routes (metering re-checks it atomically).
   */
  authenticatedKeyTtlMs: 1_000,
  /** Authenticated keys a gateway remembers; the oldest is dropped first. */
  authenticatedKeysMax: 10_000,
} as const;

export type GatewayLimits = typeof gatewayLimits;

/** Default rate limits, per minute, for every key and every account (an account's keys share its buckets). */
export interface RateLimitConfig {
  key: { requestsPerMinute: number; tokensPerMinute: number };
  account: { requestsPerMinute: number; tokensPerMinute: number };
}

export const rateLimitsDefault: RateLimitConfig = {
  key: { requestsPerMinute: 500, tokensPerMinute: 1_000_000 },
  account: { requestsPerMinute: 2_000, tokensPerMinute: 4_000_000 },
};
