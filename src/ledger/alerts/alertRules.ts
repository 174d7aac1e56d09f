/**
 * Pure alert rules both adapters share: who may read alerts and manage webhooks, when a threshold is reached, the
 * alert's id, webhook URLs and secrets, and the rows → domain mappers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Clock, epochAt, monthAt, secondMs } from '../../core/epoch.ts';
import { invalidInput } from '../inputChecks.ts';
import { periodKeyOf } from '../metering/meteringRules.ts';
import type { Row } from '../rows.ts';
import { requireManager, requireMember } from '../teams/teamRules.ts';
import type { BudgetPeriod, BudgetScope, OrgRole } from '../teams/teamsLedger.ts';
import type { LimitCurrency } from '../vocabulary.ts';
import type { BudgetAlert, DeliveryState, DueDelivery, Webhook } from './alertsLedger.ts';

export const alertLimits = {
  webhookUrlLengthMax: 2_048,
  webhooksPerOrgMax: 16,
  /** listAlerts: the newest this many alerts of an organization. */
  alertsListMax: 500,
  /** A delivery handed out by dueDeliveries is not handed out again (to another replica) for this long. */
  deliveryLeaseMs: 30 * secondMs,
  deliveryErrorLengthMax: 500,
  /** The Standard Webhooks secret: "whsec_" + base64 of this many random bytes. */
  webhookSecretBytes: 32,
} as const;

export type AlertAccess = 'read' | 'manage';

/**
 * Any member reads alerts; owners and admins manage webhooks (teamRules.ts). A refusal is a PermissionError for a
 * member and a NotFoundError for anyone else, so that an organization's existence does not leak.
 */
export function checkAlertAccess(role: OrgRole | null, access: AlertAccess): void {
  if (access === 'manage') requireManager(role, 'manage webhooks');
  else requireMember(role);
}

export function roleOf(row: Row | undefined): OrgRole | null {
  return row ? (row.role as OrgRole) : null;
}

/** http or https, parseable, without credentials, bounded. */
export function validateWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0 || url.length > alertLimits.webhookUrlLengthMax) {
    throw invalidInput(`url must be 1 to ${alertLimits.webhookUrlLengthMax} characters`, 'url');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidInput('url must be an absolute http or https URL', 'url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidInput('url must be an absolute http or https URL', 'url');
  }
  if (parsed.username !== '' || parsed.password !== '') throw invalidInput('url must not carry credentials', 'url');
  return parsed.toString();
}

/** A Standard Webhooks signing secret, shown once. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(alertLimits.webhookSecretBytes).toString('base64')}`;
}

export function newWebhookId(): string {
  return `wh_${randomBytes(12).toString('hex')}`;
}

export interface AlertKey {
  scopeId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  periodKey: string;
  thresholdPercent: number;
}

/**
 * The alert's id follows from what makes it unique, so every replica raising it names it alike and every delivery
 * of it carries the same idempotency id.
 */
export function alertIdOf(key: AlertKey): string {
  const text = [key.scopeId, key.currency, key.period, key.periodKey, String(key.thresholdPercent)].join('\u0000');
  return `alert_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

/** The current period keys of both budget periods at `nowMs`. */
export function currentPeriodKeys(clock: Clock, epochSeconds: number): Record<BudgetPeriod, string> {
  const nowMs = clock();
  const [epoch, month] = [epochAt(nowMs, epochSeconds), monthAt(nowMs)];
  return { EPOCH: periodKeyOf('EPOCH', epoch, month), MONTH: periodKeyOf('MONTH', epoch, month) };
}

/**
 * The thresholds `spent` has reached: spent × 100 ≥ threshold × amount, and something was spent. A budget of 0
 * therefore reaches every threshold at its first spend, and a period without spend raises nothing.
 */
export function thresholdsReached(thresholds: readonly number[], spentNano: bigint, amountNano: bigint): number[] {
  if (spentNano <= 0n) return [];
  return thresholds.filter((threshold) => spentNano * 100n >= BigInt(threshold) * amountNano);
}

export function parseThresholds(text: unknown): number[] {
  try {
    const parsed: unknown = JSON.parse(String(text));
    return Array.isArray(parsed) ? parsed.filter((t): t is number => Number.isSafeInteger(t) && t > 0) : [];
  } catch {
    return [];
  }
}

/** "50,80" (group_concat) or [50, 80] (array_agg) or null: the thresholds already raised. */
export function raisedThresholds(value: unknown): Set<number> {
  if (value === null || value === undefined) return new Set();
  const list = Array.isArray(value) ? value : String(value).split(',');
  return new Set(list.map((t) => Number(t)));
}

/** The alerts a scanned budget row (budget, its period key, spend and raised thresholds) now calls for. */
export function alertsDue(row: Row, nowMs: number): BudgetAlert[] {
  const amountNano = BigInt(row.amount_nano as bigint);
  const spentNano = BigInt(row.spent_nano as bigint);
  const raised = raisedThresholds(row.raised);
  const key = {
    scopeId: row.scope_id as string,
    currency: row.currency as LimitCurrency,
    period: row.period as BudgetPeriod,
    periodKey: row.period_key as string,
  };
  return thresholdsReached(parseThresholds(row.thresholds), spentNano, amountNano)
    .filter((threshold) => !raised.has(threshold))
    .map((thresholdPercent) => ({
      id: alertIdOf({ ...key, thresholdPercent }),
      orgId: row.org_id as string,
      scope: row.scope as BudgetScope,
      ...key,
      thresholdPercent,
      amountNano,
      spentNano,
      createdAtMs: nowMs,
    }));
}

export function toBudgetAlert(row: Row): BudgetAlert {
  return {
    id: row.id as string,
    orgId: row.org_id as string,
    scope: row.scope as BudgetScope,
    scopeId: row.scope_id as string,
    currency: row.currency as LimitCurrency,
    period: row.period as BudgetPeriod,
    periodKey: row.period_key as string,
    thresholdPercent: Number(row.threshold),
    amountNano: BigInt(row.amount_nano as bigint),
    spentNano: BigInt(row.spent_nano as bigint),
    createdAtMs: Number(row.created_at_ms),
  };
}

export function toWebhook(row: Row): Webhook {
  return {
    id: row.id as string,
    orgId: row.org_id as string,
    url: row.url as string,
    createdAtMs: Number(row.created_at_ms),
  };
}

export function toDeliveryState(row: Row): DeliveryState {
  const optional = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    alertId: row.alert_id as string,
    webhookId: row.webhook_id as string,
    attempts: Number(row.attempts),
    nextAttemptAtMs: optional(row.next_attempt_at_ms),
    deliveredAtMs: optional(row.delivered_at_ms),
    lastError: (row.last_error as string | null) ?? null,
  };
}

/** Alerts with their delivery rows, in the alerts' order. */
export function withDeliveries(
  alerts: Row[],
  deliveries: Row[],
): { alert: BudgetAlert; deliveries: DeliveryState[] }[] {
  const byAlert = new Map<string, DeliveryState[]>();
  for (const row of deliveries) {
    const state = toDeliveryState(row);
    byAlert.set(state.alertId, [...(byAlert.get(state.alertId) ?? []), state]);
  }
  return alerts.map((row) => ({ alert: toBudgetAlert(row), deliveries: byAlert.get(row.id as string) ?? [] }));
}

export function boundedError(error: string | null | undefined): string | null {
  return error == null ? null : error.slice(0, alertLimits.deliveryErrorLengthMax);
}

/** A due-delivery row (the alert's columns, the webhook's as w_*) as the dispatcher reads it. */
export function dueDeliveryOf(row: Row): DueDelivery {
  return {
    alert: toBudgetAlert(row),
    webhook: {
      id: row.webhook_id as string,
      orgId: row.org_id as string,
      url: row.w_url as string,
      createdAtMs: Number(row.w_created_at_ms),
    },
    secret: row.w_secret as string,
    attempts: Number(row.attempts),
  };
}
