/** Every limit of the ledger, in one place, unit last. */
import { hourMs, minuteMs } from '../core/epoch.ts';

export const ledgerLimits = {
  /** How long a reservation holds funds when the caller gives no TTL. */
  reservationTtlMsDefault: 10 * minuteMs,
  /** The longest TTL a caller may ask for: a crashed request never strands funds for longer. */
  reservationTtlMsMax: hourMs,
  idempotencyKeyLengthMax: 255,
  /** A request digest (`ReserveInput.requestHash`), e.g. 64 hex characters of SHA-256. */
  requestHashLengthMax: 128,
  /**
   * The answer kept for replays of an idempotent request. settle refuses a larger one (InvalidRequestError, nothing
   * charged), so the gateway passes none above it and a replay then says the answer was not kept.
   */
  storedResponseBytesMax: 1024 * 1024,
  modelNameLengthMax: 255,
  usageLinesPerSettleMax: 16,
  usageHistoryPageSizeDefault: 100,
  usageHistoryPageSizeMax: 500,
  journalPageSizeMax: 10_000,
  /** Reservations expired per sweeper pass. */
  expireBatchSizeMax: 1_000,
  sweepIntervalMsDefault: 5_000,
  /** PostgreSQL: the most concurrent reserves (or settles) one batched call and transaction carries. */
  operationsPerBatchMax: 32,
  /** One limit per (currency, period): DIEM, USD and TOTAL, each per EPOCH, MONTH and LIFETIME. */
  keyLimitsPerKeyMax: 9,
  /** A key's rate-limit override, in requests or tokens per minute. */
  keyRateLimitPerMinuteMax: 1_000_000_000,
  allowedModelsPerKeyMax: 256,
} as const;
