/**
 * Budget alerts and webhooks on PostgreSQL. Replicas may raise and deliver at once: an alert is inserted with
 * ON CONFLICT DO NOTHING on its (budget, period, threshold) index, so the one transaction that inserts it also adds
 * its deliveries and the others add nothing; dueDeliveries claims rows with SKIP LOCKED and a lease, so two replicas
 * do not send the same delivery at the same time.
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { retryOnDeadlock } from '../postgres/dbErrors.ts';
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import {
  type AlertAccess,
  alertLimits,
  alertsDue,
  boundedError,
  checkAlertAccess,
  currentPeriodKeys,
  dueDeliveryOf,
  generateWebhookSecret,
  newWebhookId,
  roleOf,
  toWebhook,
  validateWebhookUrl,
  withDeliveries,
} from './alertRules.ts';
import type { AlertsLedger, BudgetAlert, CreatedWebhook, DueDelivery, Webhook } from './alertsLedger.ts';

export class PostgresAlerts implements AlertsLedger {
  private readonly storage: LedgerStorage;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
  }

  private get sql(): Sql {
    return this.storage.sql;
  }

  private async check(sql: Sql, actor: string, orgId: string, access: AlertAccess): Promise<void> {
    const [row] = await sql`SELECT role FROM org_members WHERE org_id = ${orgId} AND account_id = ${actor}`;
    checkAlertAccess(roleOf(row), access);
  }

  async addWebhook(actor: string, orgId: string, input: { url: string }): Promise<CreatedWebhook> {
    const url = validateWebhookUrl(input?.url);
    const secret = generateWebhookSecret();
    const webhook: Webhook = { id: newWebhookId(), orgId, url, createdAtMs: this.storage.clock() };
    await this.sql.begin(async (transaction) => {
      const tx = transaction as unknown as Sql;
      await this.check(tx, actor, orgId, 'manage');
      // Serialises adds per organization, so the count below holds.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`webhooks:${orgId}`}))`;
      const [{ count }] = (await tx`SELECT count(*)::int AS count FROM webhooks
        WHERE org_id = ${orgId} AND removed_at_ms IS NULL`) as unknown as [{ count: number }];
      if (count >= alertLimits.webhooksPerOrgMax) {
        throw new ConflictError(`an organization has at most ${alertLimits.webhooksPerOrgMax} webhooks`, {
          code: 'webhook_limit_reached',
        });
      }
      await tx`INSERT INTO webhooks (id, org_id, url, secret, created_at_ms)
        VALUES (${webhook.id}, ${orgId}, ${url}, ${secret}, ${webhook.createdAtMs})`;
      await this.audit(tx, orgId, actor, 'webhook.add', webhook.id, null, webhook);
    });
    return { webhook, secret };
  }

  async removeWebhook(actor: string, orgId: string, webhookId: string): Promise<void> {
    await this.sql.begin(async (transaction) => {
      const tx = transaction as unknown as Sql;
      await this.check(tx, actor, orgId, 'manage');
      const [row] = await tx`SELECT * FROM webhooks
        WHERE id = ${webhookId} AND org_id = ${orgId} AND removed_at_ms IS NULL FOR UPDATE`;
      if (!row) throw new NotFoundError('webhook not found', { code: 'webhook_not_found' });
      await tx`UPDATE webhooks SET removed_at_ms = ${this.storage.clock()} WHERE id = ${webhookId}`;
      await tx`UPDATE webhook_deliveries SET next_attempt_at_ms = NULL, last_error = 'webhook removed'
        WHERE webhook_id = ${webhookId} AND delivered_at_ms IS NULL AND next_attempt_at_ms IS NOT NULL`;
      await this.audit(tx, orgId, actor, 'webhook.remove', webhookId, toWebhook(row), null);
    });
  }

  async listWebhooks(actor: string, orgId: string): Promise<Webhook[]> {
    await this.check(this.sql, actor, orgId, 'manage');
    const rows = await this.sql`SELECT * FROM webhooks WHERE org_id = ${orgId} AND removed_at_ms IS NULL
      ORDER BY created_at_ms, id`;
    return rows.map(toWebhook);
  }

  async listAlerts(actor: string, orgId: string) {
    await this.check(this.sql, actor, orgId, 'read');
    const limit = alertLimits.alertsListMax;
    const alerts = await this.sql`SELECT * FROM budget_alerts WHERE org_id = ${orgId}
      ORDER BY created_at_ms DESC, id LIMIT ${limit}`;
    const deliveries = await this.sql`SELECT * FROM webhook_deliveries
      WHERE alert_id = ANY(${alerts.map((row) => row.id as string)}::text[]) ORDER BY webhook_id`;
    return withDeliveries(alerts, deliveries);
  }

  async raiseAlerts(): Promise<BudgetAlert[]> {
    const keys = currentPeriodKeys(this.storage.clock, this.storage.epochSeconds);
    const nowMs = this.storage.clock();
    // Budgets with spend in the current period whose reached thresholds are not all raised yet (exact numerics).
    const rows = await this.sql`WITH spend AS (
        SELECT b.scope_id, b.scope, b.org_id, b.currency, b.period, b.amount_nano, b.thresholds, k.period_key,
          sum(s.spent_nano)::bigint AS spent_nano
        FROM budgets b
        CROSS JOIN LATERAL (SELECT CASE b.period WHEN 'EPOCH' THEN ${keys.EPOCH}::text ELSE ${keys.MONTH}::text END
          AS period_key) k
        JOIN budget_spend s ON s.scope_id = b.scope_id AND s.period_key = k.period_key
          AND (b.currency = 'TOTAL' OR s.class = b.currency)
        GROUP BY b.scope_id, b.currency, b.period, k.period_key
        HAVING sum(s.spent_nano) > 0)
      SELECT spend.*, (SELECT array_agg(a.threshold) FROM budget_alerts a WHERE a.scope_id = spend.scope_id
          AND a.currency = spend.currency AND a.period = spend.period AND a.period_key = spend.period_key) AS raised
      FROM spend WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(spend.thresholds::jsonb) t (value)
        WHERE spend.spent_nano::numeric * 100 >= t.value::numeric * spend.amount_nano
          AND NOT EXISTS (SELECT 1 FROM budget_alerts a WHERE a.scope_id = spend.scope_id
            AND a.currency = spend.currency AND a.period = spend.period AND a.period_key = spend.period_key
            AND a.threshold = t.value::int))`;
    // In id order, so that replicas raising the same alerts take their index locks in one order (no deadlock).
    const due = rows.flatMap((row) => alertsDue(row, nowMs)).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (due.length === 0) return [];
    const inserted = new Set(await retryOnDeadlock(() => insertAlerts(this.sql, due)));
    return due.filter((alert) => inserted.has(alert.id));
  }

  async dueDeliveries(limit: number): Promise<DueDelivery[]> {
    const nowMs = this.storage.clock();
    const rows = await this.sql`WITH due AS (
        SELECT alert_id, webhook_id FROM webhook_deliveries
        WHERE next_attempt_at_ms IS NOT NULL AND next_attempt_at_ms <= ${nowMs}
        ORDER BY next_attempt_at_ms LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE webhook_deliveries d SET next_attempt_at_ms = ${nowMs + alertLimits.deliveryLeaseMs}
        FROM due WHERE d.alert_id = due.alert_id AND d.webhook_id = due.webhook_id
        RETURNING d.alert_id, d.webhook_id, d.attempts)
      SELECT c.alert_id, c.webhook_id, c.attempts, a.*, w.url AS w_url, w.secret AS w_secret,
        w.created_at_ms AS w_created_at_ms
      FROM claimed c JOIN budget_alerts a ON a.id = c.alert_id JOIN webhooks w ON w.id = c.webhook_id
      ORDER BY a.created_at_ms, c.alert_id, c.webhook_id`;
    return rows.map(dueDeliveryOf);
  }

  async recordDelivery(input: {
    alertId: string;
    webhookId: string;
    delivered: boolean;
    error?: string | null;
    nextAttemptAtMs?: number | null;
  }): Promise<void> {
    const { alertId, webhookId } = input;
    const [row] = await this.sql`SELECT 1 FROM webhook_deliveries
      WHERE alert_id = ${alertId} AND webhook_id = ${webhookId}`;
    if (!row) throw new NotFoundError('delivery not found', { code: 'delivery_not_found' });
    if (input.delivered) {
      await this.sql`UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at_ms = ${this.storage.clock()},
          next_attempt_at_ms = NULL, last_error = NULL
        WHERE alert_id = ${alertId} AND webhook_id = ${webhookId} AND delivered_at_ms IS NULL`;
      return;
    }
    await this.sql`UPDATE webhook_deliveries SET attempts = attempts + 1,
        next_attempt_at_ms = ${input.nextAttemptAtMs ?? null}, last_error = ${boundedError(input.error ?? 'failed')}
      WHERE alert_id = ${alertId} AND webhook_id = ${webhookId} AND delivered_at_ms IS NULL`;
  }

  private async audit(
    sql: Sql,
    orgId: string,
    actor: string,
    action: string,
    id: string,
    before: unknown,
    after: unknown,
  ) {
    const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
    await sql`INSERT INTO team_audit (org_id, actor_account_id, action, target, before_json, after_json, at_ms)
      VALUES (${orgId}, ${actor}, ${action}, ${`webhook:${id}`}, ${json(before)}, ${json(after)},
        ${this.storage.clock()})`;
  }
}

/**
 * The alerts and a pending delivery per live webhook of each, in one statement; returns the ids it inserted (not
 * those another raise inserted first).
 */
async function insertAlerts(sql: Sql, alerts: BudgetAlert[]): Promise<string[]> {
  const column = <T>(pick: (alert: BudgetAlert) => T) => alerts.map(pick);
  const rows = await sql`WITH inserted AS (
      INSERT INTO budget_alerts (id, org_id, scope, scope_id, currency, period, period_key, threshold, amount_nano,
        spent_nano, created_at_ms)
      SELECT * FROM unnest(${column((a) => a.id)}::text[], ${column((a) => a.orgId)}::text[],
        ${column((a) => a.scope)}::text[], ${column((a) => a.scopeId)}::text[], ${column((a) => a.currency)}::text[],
        ${column((a) => a.period)}::text[], ${column((a) => a.periodKey)}::text[],
        ${column((a) => a.thresholdPercent)}::int[], ${column((a) => a.amountNano.toString())}::text[]::bigint[],
        ${column((a) => a.spentNano.toString())}::text[]::bigint[], ${column((a) => String(a.createdAtMs))}::text[]::bigint[])
      ON CONFLICT DO NOTHING RETURNING id, org_id, created_at_ms),
    deliveries AS (
      INSERT INTO webhook_deliveries (alert_id, webhook_id, attempts, next_attempt_at_ms)
      SELECT i.id, w.id, 0, i.created_at_ms FROM inserted i
        JOIN webhooks w ON w.org_id = i.org_id AND w.removed_at_ms IS NULL
      ON CONFLICT DO NOTHING)
    SELECT id FROM inserted`;
  return rows.map((row) => row.id as string);
}
