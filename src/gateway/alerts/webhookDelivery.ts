/**
 * Delivers due alert webhooks: each due delivery is POSTed once per pass, signed (webhookSignature.ts), and recorded
 * in the ledger as delivered (any 2xx) or failed with its next attempt after an exponential back-off with jitter, so
 * a receiver that is down gets every alert once it recovers and a restarted gateway picks up where it stopped.
 * Delivery is at least once: every delivery of one alert carries the same `webhook-id` and the same body.
 */
import { type Clock, minuteMs, secondMs } from '../../core/epoch.ts';
import { formatUsd } from '../../core/money.ts';
import { alertLimits } from '../../ledger/alerts/alertRules.ts';
import type { BudgetAlert, DueDelivery, Ledger } from '../../ledger/types.ts';
import { type Lookup, refusedDestination } from './webhookDestination.ts';
import { webhookHeaders } from './webhookSignature.ts';

export const webhookLimits = {
  /** A receiver that has not answered by then counts as failed. */
  requestTimeoutMs: 5 * secondMs,
  /** The first retry waits about this long; each next one twice as long, up to `retryDelayMsMax`. */
  retryDelayMsBase: secondMs,
  retryDelayMsMax: 10 * minuteMs,
  /** Attempts before a delivery is given up (with the defaults, about 2.5 hours of trying). */
  attemptsMaxDefault: 20,
  /** Deliveries sent at once, and per ledger read. */
  batchSize: 32,
  /** Batches per pass at most, so that one pass ends. */
  batchesPerPassMax: 8,
} as const;

export type AlertEventType = 'budget.threshold';

/** An alert's fields as the API and the webhooks show them (amounts in USD and, for webhooks, in nano-USD too). */
export function alertFields(alert: BudgetAlert) {
  return {
    id: alert.id,
    orgId: alert.orgId,
    scope: alert.scope,
    scopeId: alert.scopeId,
    currency: alert.currency,
    period: alert.period,
    periodKey: alert.periodKey,
    thresholdPercent: alert.thresholdPercent,
    amount: formatUsd(alert.amountNano),
    spent: formatUsd(alert.spentNano),
  };
}

/** The JSON body of an alert's deliveries: the same bytes on every attempt. */
export function alertEventBody(alert: BudgetAlert): string {
  return JSON.stringify({
    id: alert.id,
    type: 'budget.threshold' satisfies AlertEventType,
    created: new Date(alert.createdAtMs).toISOString(),
    data: { ...alertFields(alert), amountNano: alert.amountNano.toString(), spentNano: alert.spentNano.toString() },
  });
}

/**
 * The wait before attempt `attempts + 1`, after `attempts` failed ones: base × 2^(attempts − 1), capped, of which a
 * random part (up to a half) is dropped, so that receivers recovering from an outage are not hit in lockstep.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const delay = Math.min(webhookLimits.retryDelayMsBase * 2 ** exponent, webhookLimits.retryDelayMsMax);
  return Math.round(delay * (1 - random() / 2));
}

export interface WebhookDeliveryOptions {
  ledger: Ledger;
  clock: Clock;
  /** Default `webhookLimits.attemptsMaxDefault`. */
  attemptsMax?: number;
  /** Default `webhookLimits.requestTimeoutMs`. */
  timeoutMs?: number;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  random?: () => number;
  /** Post to loopback and private addresses too (webhookDestination.ts); default false. */
  privateDestinations?: boolean;
  /** Default: the system resolver. */
  lookup?: Lookup;
}

export interface DeliveryOutcome {
  delivered: number;
  failed: number;
  gaveUp: number;
}

/** One POST; null when the receiver answered 2xx, else why not. */
async function post(delivery: DueDelivery, options: WebhookDeliveryOptions): Promise<string | null> {
  const body = alertEventBody(delivery.alert);
  const timestampSeconds = Math.floor(options.clock() / 1000);
  try {
    const response = await (options.fetch ?? fetch)(delivery.webhook.url, {
      method: 'POST',
      headers: {
        ...webhookHeaders(delivery.secret, delivery.alert.id, timestampSeconds, body),
        'user-agent': 'perdiem-webhooks/1',
      },
      body,
      redirect: 'manual',
      // Well inside the ledger's lease on the delivery, so no other replica sends it while this one waits.
      signal: AbortSignal.timeout(
        Math.min(options.timeoutMs ?? webhookLimits.requestTimeoutMs, alertLimits.deliveryLeaseMs / 2),
      ),
    });
    await response.body?.cancel().catch(() => {});
    return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return [(error as Error).name, (error as Error).message, cause].filter(Boolean).join(': ');
  }
}

/** Why the destination is refused for good, or null; a resolver failure is an attempt that failed. */
async function refused(delivery: DueDelivery, options: WebhookDeliveryOptions): Promise<string | null> {
  if (options.privateDestinations) return null;
  return refusedDestination(delivery.webhook.url, options.lookup);
}

async function deliverOne(delivery: DueDelivery, options: WebhookDeliveryOptions): Promise<keyof DeliveryOutcome> {
  const ids = { alertId: delivery.alert.id, webhookId: delivery.webhook.id };
  const refusal = await refused(delivery, options).catch((error: Error) => {
    return { retry: `${error.name}: ${error.message}` };
  });
  if (typeof refusal === 'string') {
    await options.ledger.recordDelivery({ ...ids, delivered: false, error: refusal, nextAttemptAtMs: null });
    return 'gaveUp';
  }
  const error = refusal === null ? await post(delivery, options) : refusal.retry;
  if (error === null) {
    await options.ledger.recordDelivery({ ...ids, delivered: true });
    return 'delivered';
  }
  const attempts = delivery.attempts + 1;
  const giveUp = attempts >= (options.attemptsMax ?? webhookLimits.attemptsMaxDefault);
  const nextAttemptAtMs = giveUp ? null : options.clock() + retryDelayMs(attempts, options.random);
  await options.ledger.recordDelivery({ ...ids, delivered: false, error, nextAttemptAtMs });
  return giveUp ? 'gaveUp' : 'failed';
}

/** Sends every delivery due now (a bounded number of batches); returns what became of them. */
export async function deliverDueWebhooks(options: WebhookDeliveryOptions): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { delivered: 0, failed: 0, gaveUp: 0 };
  for (let batch = 0; batch < webhookLimits.batchesPerPassMax; batch++) {
    const due = await options.ledger.dueDeliveries(webhookLimits.batchSize);
    for (const result of await Promise.all(due.map((delivery) => deliverOne(delivery, options)))) {
      outcome[result] += 1;
    }
    if (due.length < webhookLimits.batchSize) break;
  }
  return outcome;
}
