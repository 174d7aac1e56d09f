/**
 * Budget alerts and their webhooks. An alert is raised once per (budget, period, threshold) when the spend settled
 * against a budget reaches the threshold; it is then delivered to every webhook of the organization at least once,
 * with retries and back-off kept in the ledger, so that a receiver that is down gets every alert when it recovers and
 * a gateway restart loses none. Deliveries carry the alert id, so that a receiver recognises a replay.
 */
import type { NanoUsd } from '../../core/money.ts';
import type { BudgetPeriod, BudgetScope } from '../teams/teamsLedger.ts';
import type { LimitCurrency } from '../vocabulary.ts';

export interface BudgetAlert {
  /** The idempotency id receivers deduplicate on: the same for every delivery of this alert. */
  id: string;
  orgId: string;
  scope: BudgetScope;
  scopeId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  periodKey: string;
  thresholdPercent: number;
  /** The budget and what was spent against it when the alert was raised. */
  amountNano: NanoUsd;
  spentNano: NanoUsd;
  createdAtMs: number;
}

export interface Webhook {
  id: string;
  orgId: string;
  url: string;
  createdAtMs: number;
}

/** The only time the signing secret is shown. */
export interface CreatedWebhook {
  webhook: Webhook;
  secret: string;
}

export interface DueDelivery {
  alert: BudgetAlert;
  webhook: Webhook;
  secret: string;
  /** Attempts made so far. */
  attempts: number;
}

export interface DeliveryState {
  alertId: string;
  webhookId: string;
  attempts: number;
  nextAttemptAtMs: number | null;
  deliveredAtMs: number | null;
  lastError: string | null;
}

export interface AlertsLedger {
  /** Owners and admins only (teamRules). */
  addWebhook(actor: string, orgId: string, input: { url: string }): Promise<CreatedWebhook>;
  removeWebhook(actor: string, orgId: string, webhookId: string): Promise<void>;
  listWebhooks(actor: string, orgId: string): Promise<Webhook[]>;
  /** The organization's alerts, newest first, with their delivery states. */
  listAlerts(actor: string, orgId: string): Promise<{ alert: BudgetAlert; deliveries: DeliveryState[] }[]>;
  /**
   * Raises every alert whose threshold the settled spend of the current period has reached and that was not raised
   * in this period yet, with a pending delivery per webhook; returns the new alerts. The alert sweeper calls it.
   */
  raiseAlerts(): Promise<BudgetAlert[]>;
  /** Deliveries whose next attempt is due now, oldest first. */
  dueDeliveries(limit: number): Promise<DueDelivery[]>;
  /** Records an attempt: delivered, or failed with the time of the next attempt (null: give up). */
  recordDelivery(input: {
    alertId: string;
    webhookId: string;
    delivered: boolean;
    error?: string | null;
    nextAttemptAtMs?: number | null;
  }): Promise<void>;
}
