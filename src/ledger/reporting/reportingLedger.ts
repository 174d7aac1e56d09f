/** What was spent: usage rows, analytics and the double-entry journal. */
import type { NanoUsd } from '../../core/money.ts';
import type { Reservation } from '../metering/meteringLedger.ts';
import type { FundingSource, SpendCurrency } from '../vocabulary.ts';

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
  /**
   * What the operator lost on these rows: list price above the charge (a settle capped at its reservation, or a void
   * with operator loss, charged 0).
   */
  lossNano: NanoUsd;
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

/** One settled charge, whole: what its receipt states (gateway/receipts). */
export interface SettledCharge {
  /** SETTLED; `chargedNano` is what the account paid and `lines` sum to it. */
  reservation: Reservation;
  /** Its usage rows, in line order. */
  lines: UsageRecord[];
  /** The keccak256 of the price sheet that priced it; null for charges settled without one. */
  priceSheetHash: string | null;
}

/** Usage history, analytics and the journal, read-only. */
export interface ReportingLedger {
  /** The settled charge of the request `requestId` of `accountId`; null when there is none (or it is another's). */
  chargeOf(input: { accountId: string; requestId: string }): Promise<SettledCharge | null>;
  usageHistory(query: UsageQuery): Promise<UsagePage>;
  usageAnalytics(query: AnalyticsQuery): Promise<UsageAnalytics>;
  /** Journal entries in id order, for audits and reconciliation. */
  journal(input?: { afterId?: string | null; limit?: number }): Promise<JournalEntry[]>;
}
