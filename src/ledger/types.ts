/**
 * The ledger: who may spend what, and an append-only record of every charge. One interface, two adapters
 * (SQLite for the embedded default, PostgreSQL for scale-out), one conformance suite.
 *
 * Money is integer nano-USD (`bigint`); time is unix ms from the injected clock.
 *
 * Invariants every adapter keeps, each in one atomic step:
 * - a source never goes below zero: `available >= 0` for credits and USD, `spent + reserved <= allowance` for DIEM
 *   (unless the allowance itself was lowered);
 * - a key never spends past any of its limits: `spent + reserved <= limit` in the current period;
 * - a reservation is settled at most once, and charges at most what it reserved (the excess is operator loss);
 * - at most one reservation per (account, idempotency key) is live or settled, so a retry is charged once;
 * - in every journal transaction, debits equal credits; usage amounts sum to the charges in the journal.
 */
import type { NanoUsd } from '../core/money.ts';

/** Spend order: the first single source that can cover the reservation pays for it. */
export type FundingSource = 'DIEM' | 'CREDITS' | 'USD';
export const fundingSourceOrder: readonly FundingSource[] = ['DIEM', 'CREDITS', 'USD'];

/**
 * What a key limit covers. Venice's rule: a DIEM limit covers spend from the DIEM allowance; a USD limit covers spend
 * from credits and the USD balance. TOTAL is a perdiem extension: it covers spend from every source ($1 of inference
 * is one unit whichever source pays it).
 */
export type LimitCurrency = 'DIEM' | 'USD' | 'TOTAL';
/** The class a source's spend is recorded in (usage rows, analytics): DIEM, or USD for credits and USD. */
export type SpendCurrency = 'DIEM' | 'USD';
export type LimitPeriod = 'EPOCH' | 'MONTH' | 'LIFETIME';
export type KeyKind = 'INFERENCE' | 'ADMIN';
export type ReservationStatus = 'RESERVED' | 'SETTLED' | 'VOIDED' | 'EXPIRED';

export function limitCurrencyOf(source: FundingSource): SpendCurrency {
  return source === 'DIEM' ? 'DIEM' : 'USD';
}

/** Whether a limit in `currency` counts spend from `source`. */
export function limitCovers(currency: LimitCurrency, source: FundingSource): boolean {
  return currency === 'TOTAL' || currency === limitCurrencyOf(source);
}

export interface Account {
  id: string;
  name: string | null;
  createdAtMs: number;
}

/** A wallet linked to an account, and when. */
export interface WalletLink {
  /** Lower-cased. */
  address: string;
  accountId: string;
  linkedAtMs: number;
}

export interface KeyLimit {
  currency: LimitCurrency;
  period: LimitPeriod;
  amountNano: NanoUsd;
}

/** A key limit and what the key has used against it in the limit's current period. */
export interface KeyLimitUsage extends KeyLimit {
  /** "EPOCH:20090", "MONTH:2025-01" or "LIFETIME". */
  periodKey: string;
  spentNano: NanoUsd;
  reservedNano: NanoUsd;
  /** max(0, amount - spent - reserved). */
  remainingNano: NanoUsd;
}

/** Per-key rate limits that override the operator's per-key defaults; null fields keep the default. */
export interface KeyRateLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

export interface ApiKey {
  id: string;
  accountId: string;
  kind: KeyKind;
  name: string;
  /** The first characters of the secret, safe to show ("pd_3f9a…"). */
  secretPrefix: string;
  /** The secret's last 6 characters (Venice's `last6Chars`); null for keys made before it was recorded. */
  secretLast6: string | null;
  createdAtMs: number;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  /** null: every model. */
  allowedModels: string[] | null;
  limits: KeyLimit[];
  /** null: the operator's per-key defaults. */
  rateLimits: KeyRateLimits | null;
}

export interface CreateKeyInput {
  accountId: string;
  kind: KeyKind;
  name: string;
  expiresAtMs?: number | null;
  allowedModels?: string[] | null;
  limits?: KeyLimit[];
  rateLimits?: KeyRateLimits | null;
}

/** The only time the secret exists in clear: it is stored as a SHA-256 hash. */
export interface CreatedKey {
  key: ApiKey;
  secret: string;
}

export interface UpdateKeyInput {
  name?: string;
  expiresAtMs?: number | null;
  allowedModels?: string[] | null;
  /** Replaces every limit. Spend already counted in the current periods still counts. */
  limits?: KeyLimit[];
  /** Replaces the key's rate-limit overrides; null returns the key to the operator's defaults. */
  rateLimits?: KeyRateLimits | null;
}

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
  /** Set once settled: what the account paid (<= amountNano) and what the operator lost above it. */
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

export interface Balance {
  accountId: string;
  epoch: number;
  nextEpochBegins: string;
  diem: { allowanceNano: NanoUsd; spentNano: NanoUsd; reservedNano: NanoUsd; availableNano: NanoUsd };
  credits: { availableNano: NanoUsd; reservedNano: NanoUsd };
  usd: { availableNano: NanoUsd; reservedNano: NanoUsd };
}

export interface AddFundsInput {
  accountId: string;
  source: 'CREDITS' | 'USD';
  /** Positive. */
  amountNano: NanoUsd;
  /** Unique per funding event (an x402 payment id, an admin grant id): credited at most once. */
  reference: string;
}

export interface UsageRecord {
  id: string;
  reservationId: string;
  /** The reservation's request id (`ReserveInput.requestId`, which defaults to the idempotency key). */
  requestId: string;
  accountId: string;
  keyId: string | null;
  model: string;
  sku: string;
  units: number;
  unitPriceNano: NanoUsd;
  priceUnit: number;
  /** What the upstream usage costs at list price. */
  listAmountNano: NanoUsd;
  /** What the account was charged for this line (the reservation cap is applied to the lines in order). */
  amountNano: NanoUsd;
  currency: SpendCurrency;
  source: FundingSource;
  latencyMs: number | null;
  epoch: number;
  createdAtMs: number;
}

export interface UsageQuery {
  accountId: string;
  keyId?: string;
  model?: string;
  /** Inclusive. */
  fromMs?: number;
  /** Exclusive. */
  toMs?: number;
  limit?: number;
  /** From the previous page's `nextCursor`. */
  cursor?: string | null;
}

export interface UsagePage {
  /** Newest first. */
  items: UsageRecord[];
  nextCursor: string | null;
}

export interface AnalyticsQuery {
  /** null: every account (the operator's view of the whole fleet). */
  accountId: string | null;
  fromMs: number;
  toMs: number;
  keyId?: string;
}

export interface AnalyticsRow {
  /** A UTC day ("2025-01-02"), a model name or a key id ("" for key-less requests). */
  group: string;
  currency: SpendCurrency;
  amountNano: NanoUsd;
  requests: number;
  units: number;
}

export interface UsageAnalytics {
  byDay: AnalyticsRow[];
  byModel: AnalyticsRow[];
  byKey: AnalyticsRow[];
}

export type JournalKind = 'CHARGE' | 'LOSS' | 'FUNDING' | 'ALLOWANCE';

/** One leg of a double-entry transaction. Append-only. */
export interface Funding {
  reference: string;
  source: 'CREDITS' | 'USD';
  amountNano: NanoUsd;
  createdAtMs: number;
}

export interface JournalEntry {
  id: string;
  txnId: string;
  kind: JournalKind;
  /** "account:<id>:credits", "account:<id>:usd", "account:<id>:diem:<epoch>", "operator:revenue", … */
  ledgerAccount: string;
  side: 'DEBIT' | 'CREDIT';
  amountNano: NanoUsd;
  reservationId: string | null;
  createdAtMs: number;
}

export interface Ledger {
  readonly adapter: 'sqlite' | 'postgres';
  /**
   * This open ledger's id, unique per process start (a random id unless given at open). Every reservation records
   * the instance that made it (`Reservation.owner`).
   */
  readonly instanceId: string;

  createAccount(input?: { id?: string; name?: string | null }): Promise<Account>;
  getAccount(accountId: string): Promise<Account | null>;
  /** Links a wallet (lower-cased address) to an account; a wallet belongs to one account, for good. */
  linkWallet(accountId: string, address: string): Promise<void>;
  accountByWallet(address: string): Promise<Account | null>;
  /** Every linked wallet, oldest link first (the chain side feeds their allowances). */
  listWallets(): Promise<{ accountId: string; address: string }[]>;
  /** The account's linked wallets, oldest link first (ties by address). */
  walletsOfAccount(accountId: string): Promise<WalletLink[]>;

  createKey(input: CreateKeyInput): Promise<CreatedKey>;
  /** The key for a presented secret, or AuthenticationError (unknown, revoked or expired). */
  authenticate(secret: string): Promise<ApiKey>;
  getKey(keyId: string): Promise<ApiKey | null>;
  listKeys(accountId: string): Promise<ApiKey[]>;
  updateKey(keyId: string, patch: UpdateKeyInput): Promise<ApiKey>;
  revokeKey(keyId: string): Promise<ApiKey>;

  /**
   * An account's DIEM allowance for an epoch is its direct part plus the sum of its linked wallets' parts; each setter
   * below replaces only its own part, in one transaction with the new total and an ALLOWANCE journal entry for the
   * change. A rise counts at once; a lowering lowers what is left (spend already made stays).
   *
   * Sets the account's direct part: an operator's grant (`PUT /admin/accounts/:id/diem-allowance`) or a test's,
   * with no wallet behind it. The chain feed never writes it.
   */
  setDiemAllowance(accountId: string, epoch: number, allowanceNano: NanoUsd): Promise<void>;
  /**
   * Sets one linked wallet's part for the epoch (the chain feed: `DiemStaking.allowanceOf`, or its legacy share). The
   * account it counts for is the one the wallet is linked to, read in the same transaction, so a wallet counts for
   * one account only; NotFoundError (`wallet_not_found`) for a wallet linked to none.
   */
  setWalletAllowance(address: string, epoch: number, allowanceNano: NanoUsd): Promise<void>;
  /**
   * The chain block the legacy allocation reads every share of `epoch` at, once one is claimed; null before. Every
   * feed (a restarted process, another replica) reads the same block, so the shares of an epoch sum to at most its
   * capacity.
   */
  allowanceSnapshotBlock(epoch: number): Promise<bigint | null>;
  /**
   * Records `blockNumber` as the epoch's snapshot block unless one is recorded already, and returns the recorded one:
   * the first claim wins, also between processes. RangeError for a negative epoch or block.
   */
  claimAllowanceSnapshotBlock(epoch: number, blockNumber: bigint): Promise<bigint>;
  /** Credits an account once per `reference`; returns false when the reference was already applied. */
  addFunds(input: AddFundsInput): Promise<boolean>;

  balance(accountId: string): Promise<Balance>;
  /** What a key (or a key-less wallet request) can reserve now, per source, for budget-bounded generation. */
  spendable(input: { accountId: string; keyId: string | null; model?: string }): Promise<Spendable>;

  /** Holds the request's maximum cost against one source and the key's limits, atomically. */
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /** Charges min(actual, reserved), releases the rest, records usage and journal. Idempotent for the same cost. */
  settle(input: SettleInput): Promise<SettleResult>;
  /** Releases a reservation without charging. Idempotent. */
  void(reservationId: string): Promise<Reservation>;
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

  usageHistory(query: UsageQuery): Promise<UsagePage>;
  usageAnalytics(query: AnalyticsQuery): Promise<UsageAnalytics>;
  /** The account's credited fundings (credits and USD top-ups), newest first. */
  fundings(input: { accountId: string; source?: 'CREDITS' | 'USD'; limit?: number }): Promise<Funding[]>;
  /** Journal entries in id order, for audits and reconciliation. */
  journal(input?: { afterId?: string | null; limit?: number }): Promise<JournalEntry[]>;

  close(): Promise<void>;
}
