/** Two-phase metering: reserve a request's maximum cost, then settle or void it; holds expire. */
import type { NanoUsd } from '../../core/money.ts';
import type { KeyLimitUsage } from '../accounts/accountsLedger.ts';
import type { BudgetLevel } from '../teams/teamsLedger.ts';
import type { FundingSource, ReservationStatus } from '../vocabulary.ts';

export interface ReserveInput {
  accountId: string;
  /** null for wallet-paid requests that carry no API key: no key checks or limits. */
  keyId: string | null;
  /** The request id or the client's Idempotency-Key; scoped to the account. */
  idempotencyKey: string;
  /** The gateway's id for this attempt (x-request-id); usage records carry it. Defaults to `idempotencyKey`. */
  requestId?: string;
  /**
   * A digest of what was asked (method, path and body). A retry under the same idempotency key with another digest
   * is refused with IdempotencyMismatchError (422) and changes nothing. null/absent: not compared.
   */
  requestHash?: string | null;
  model: string;
  /** The most the request may cost. */
  amountNano: NanoUsd;
  /**
   * When set (and below `amountNano`), reserve as much as one source can hold between this and `amountNano`: the
   * first source that covers `amountNano`, else the source with the most headroom if it covers `minAmountNano`. The
   * gateway then sizes max_tokens to the reserved amount (budget-bounded generation). Defaults to `amountNano`.
   */
  minAmountNano?: NanoUsd;
  /** Defaults to `ledgerLimits.reservationTtlMsDefault`. */
  ttlMs?: number;
}

export interface Reservation {
  id: string;
  accountId: string;
  keyId: string | null;
  idempotencyKey: string;
  /** The attempt that made the reservation (usage records carry it). */
  requestId: string;
  requestHash: string | null;
  /**
   * The ledger instance (`Ledger.instanceId`) whose process holds it while it is RESERVED; null for reservations
   * made before owners were recorded.
   */
  owner: string | null;
  model: string;
  source: FundingSource;
  /** The epoch (and month) whose allowance and key-limit periods the reservation counts against, until it ends. */
  epoch: number;
  month: string;
  amountNano: NanoUsd;
  status: ReservationStatus;
  /**
   * Set once settled: what the account paid (<= amountNano) and what the operator lost above it. A void with operator
   * loss (`void(id, loss)`) sets them too: charged 0, and the loss at list price.
   */
  chargedNano: NanoUsd | null;
  lossNano: NanoUsd | null;
  createdAtMs: number;
  expiresAtMs: number;
  finishedAtMs: number | null;
}

export interface ReserveResult {
  reservation: Reservation;
  /**
   * True when the idempotency key matched a live or settled reservation: nothing new was reserved. The reservation is
   * the earlier attempt's: RESERVED means it is still in progress, SETTLED that it finished.
   */
  replayed: boolean;
  /**
   * On a replay: the answer stored with the settle (`SettleInput.response`) when the reservation is SETTLED and one was
   * stored, else null. Absent on a fresh reservation.
   */
  response?: string | null;
  /**
   * What each source has available right after this reservation's hold (as `balance` would report it); both
   * adapters read it on the way at no extra cost. Absent on a replay. The gateway's x-balance-* headers use it instead
   * of reading the balance again.
   */
  available?: Record<FundingSource, NanoUsd>;
  /**
   * The tightest remaining budget right after this reservation's hold, over every level the request had to fit: the
   * key's limits, its project's and organization's budgets, and the source that paid. Absent on a replay.
   */
  headroom?: { level: BudgetLevel; remainingNano: NanoUsd };
}

/** One priced usage line, as `core/pricing` produces it. */
export interface UsageLineInput {
  sku: string;
  units: number;
  unitPriceNano: NanoUsd;
  priceUnit: number;
  amountNano: NanoUsd;
}

export interface SettleInput {
  reservationId: string;
  /** The actual cost is the sum of the lines. Empty: charge nothing (but still record the settle). */
  lines: UsageLineInput[];
  latencyMs: number | null;
  /**
   * The answer to keep for replays of an idempotent request (at most `ledgerLimits.storedResponseBytesMax` UTF-8
   * bytes), stored in the same transaction as the charge, so a request is never charged without its answer kept.
   */
  response?: string;
  /** The keccak256 of the price sheet that priced the lines (`core/priceSheetHash`), kept for the charge's receipt. */
  priceSheetHash?: string;
}

/**
 * Usage the operator paid for and the account does not: a request cut off before its first token, or an upstream
 * failure the provider bills for. Voided with the reservation, in the same transaction: its lines are recorded at
 * list price and charged 0, and their sum is journaled as LOSS (operator:loss DEBIT, operator:revenue CREDIT).
 */
export interface OperatorLoss {
  lines: UsageLineInput[];
  latencyMs: number | null;
}

export interface SettleResult {
  reservation: Reservation;
  /** True when the reservation was already settled with the same cost: nothing was charged again. */
  replayed: boolean;
}

export interface SourceHeadroom {
  source: FundingSource;
  /** What one reservation could hold from this source now: its balance, capped by the key's limits. */
  headroomNano: NanoUsd;
}

export interface Spendable {
  sources: SourceHeadroom[];
  /** The largest single reservation that would succeed now, and the source it would come from. */
  maxNano: NanoUsd;
  source: FundingSource | null;
}

/** Reserve, settle, void and expire, each atomic against the source and the key's limits. */
export interface MeteringLedger {
  /** What a key (or a key-less wallet request) can reserve now, per source, for budget-bounded generation. */
  spendable(input: { accountId: string; keyId: string | null; model?: string }): Promise<Spendable>;
  /** Holds the request's maximum cost against one source and the key's limits, atomically. */
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /** Charges min(actual, reserved), releases the rest, records usage and journal. Idempotent for the same cost. */
  settle(input: SettleInput): Promise<SettleResult>;
  /**
   * Releases a reservation without charging. Idempotent: a reservation already voided or expired is returned as it is
   * (and `loss` is not recorded again). With `loss`, its lines are recorded as the operator's loss in the same
   * transaction.
   */
  void(reservationId: string, loss?: OperatorLoss): Promise<Reservation>;
  /** Releases reservations whose TTL has passed; returns how many. The sweeper calls it. */
  expireReservations(limit?: number): Promise<number>;
  /**
   * Pushes the expiry of this instance's live reservations to now + ttlMs; returns how many. The sweeper calls it
   * every pass, so a live gateway's holds never expire, while a dead one's expire a TTL after its last pass.
   */
  renewHolds(ttlMs: number): Promise<number>;
  /**
   * Voids every live reservation made by another instance; returns how many. Only for a single-writer ledger at
   * start (`perdiem up` on SQLite, which owns its file): whatever another instance still holds belongs to a process
   * that died.
   */
  voidHoldsOfOtherInstances(): Promise<number>;
  /**
   * Each of the key's limits (in `ApiKey.limits` order) with what the key has spent and holds against it in the
   * current period; NotFoundError for an unknown key.
   */
  keyLimitUsage(keyId: string): Promise<KeyLimitUsage[]>;
  getReservation(reservationId: string): Promise<Reservation | null>;
}
