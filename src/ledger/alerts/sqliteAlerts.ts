/**
 * Budget alerts and webhooks on SQLite. Writes run at once (`tx`, BEGIN IMMEDIATE), so processes sharing the file
 * are serialised; the unique (budget, period, threshold) index makes an alert once per period however many raise it.
 */
import type { Clock } from '../../core/epoch.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
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

const alertsStatements = {
  role: 'SELECT role FROM org_members WHERE org_id = ? AND account_id = ?',
  liveWebhooks: 'SELECT * FROM webhooks WHERE org_id = ? AND removed_at_ms IS NULL ORDER BY created_at_ms, id',
  webhook: 'SELECT * FROM webhooks WHERE id = ? AND org_id = ? AND removed_at_ms IS NULL',
  insertWebhook: 'INSERT INTO webhooks (id, org_id, url, secret, created_at_ms) VALUES (?, ?, ?, ?, ?)',
  removeWebhook: 'UPDATE webhooks SET removed_at_ms = ? WHERE id = ?',
  cancelDeliveries: `UPDATE webhook_deliveries SET next_attempt_at_ms = NULL, last_error = 'webhook removed'
    WHERE webhook_id = ? AND delivered_at_ms IS NULL AND next_attempt_at_ms IS NOT NULL`,
  audit: `INSERT INTO team_audit (org_id, actor_account_id, action, target, before_json, after_json, at_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  // Each budget with spend in its current period (?1 the epoch key, ?2 the month key), the spend of the classes its
  // currency covers, and the thresholds already raised in that period; only budgets with a threshold reached and not
  // raised yet (compared in floating point with a little slack: alertsDue decides exactly).
  scan: `WITH spend AS (
      SELECT b.scope_id, b.scope, b.org_id, b.currency, b.period, b.amount_nano, b.thresholds,
        CASE b.period WHEN 'EPOCH' THEN ?1 ELSE ?2 END AS period_key, sum(s.spent_nano) AS spent_nano
      FROM budgets b JOIN budget_spend s ON s.scope_id = b.scope_id
        AND s.period_key = CASE b.period WHEN 'EPOCH' THEN ?1 ELSE ?2 END
        AND (b.currency = 'TOTAL' OR s.class = b.currency)
      GROUP BY b.scope_id, b.currency, b.period
      HAVING sum(s.spent_nano) > 0)
    SELECT spend.*, (SELECT group_concat(a.threshold) FROM budget_alerts a WHERE a.scope_id = spend.scope_id
        AND a.currency = spend.currency AND a.period = spend.period AND a.period_key = spend.period_key) AS raised
    FROM spend WHERE EXISTS (SELECT 1 FROM json_each(spend.thresholds) t
      WHERE spend.spent_nano * 100.0 >= t.value * spend.amount_nano * (1 - 1e-9)
        AND NOT EXISTS (SELECT 1 FROM budget_alerts a WHERE a.scope_id = spend.scope_id AND a.currency = spend.currency
          AND a.period = spend.period AND a.period_key = spend.period_key AND a.threshold = t.value))`,
  insertAlert: `INSERT INTO budget_alerts (id, org_id, scope, scope_id, currency, period, period_key, threshold,
      amount_nano, spent_nano, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  insertDeliveries: `INSERT INTO webhook_deliveries (alert_id, webhook_id, attempts, next_attempt_at_ms)
    SELECT ?1, id, 0, ?2 FROM webhooks WHERE org_id = ?3 AND removed_at_ms IS NULL ON CONFLICT DO NOTHING`,
  due: `SELECT d.alert_id, d.webhook_id, d.attempts, a.*, w.url AS w_url, w.secret AS w_secret,
      w.created_at_ms AS w_created_at_ms
    FROM webhook_deliveries d JOIN budget_alerts a ON a.id = d.alert_id JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.next_attempt_at_ms IS NOT NULL AND d.next_attempt_at_ms <= ?
    ORDER BY d.next_attempt_at_ms, a.created_at_ms LIMIT ?`,
  lease: 'UPDATE webhook_deliveries SET next_attempt_at_ms = ? WHERE alert_id = ? AND webhook_id = ?',
  delivery: 'SELECT * FROM webhook_deliveries WHERE alert_id = ? AND webhook_id = ?',
  delivered: `UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at_ms = ?, next_attempt_at_ms = NULL,
      last_error = NULL WHERE alert_id = ? AND webhook_id = ? AND delivered_at_ms IS NULL`,
  failed: `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at_ms = ?, last_error = ?
    WHERE alert_id = ? AND webhook_id = ? AND delivered_at_ms IS NULL`,
  alerts: 'SELECT * FROM budget_alerts WHERE org_id = ? ORDER BY created_at_ms DESC, id LIMIT ?',
  deliveriesOf: `SELECT * FROM webhook_deliveries WHERE alert_id IN (
      SELECT id FROM budget_alerts WHERE org_id = ? ORDER BY created_at_ms DESC, id LIMIT ?)
    ORDER BY webhook_id`,
} as const;

export class SqliteAlerts implements AlertsLedger {
  private readonly storage: SqliteStorage;
  private readonly clock: Clock;
  private readonly epochSeconds: number;
  private readonly stmt: PreparedCatalog<typeof alertsStatements>;

  constructor(storage: SqliteStorage, clock: Clock, epochSeconds: number) {
    this.storage = storage;
    this.clock = clock;
    this.epochSeconds = epochSeconds;
    this.stmt = storage.prepare(alertsStatements);
  }

  private check(actor: string, orgId: string, access: AlertAccess): void {
    checkAlertAccess(roleOf(this.stmt.role.get(orgId, actor)), access);
  }

  async addWebhook(actor: string, orgId: string, input: { url: string }): Promise<CreatedWebhook> {
    const url = validateWebhookUrl(input?.url);
    const secret = generateWebhookSecret();
    const webhook: Webhook = { id: newWebhookId(), orgId, url, createdAtMs: this.clock() };
    this.storage.tx(() => {
      this.check(actor, orgId, 'manage');
      if (this.stmt.liveWebhooks.all(orgId).length >= alertLimits.webhooksPerOrgMax) {
        throw new ConflictError(`an organization has at most ${alertLimits.webhooksPerOrgMax} webhooks`, {
          code: 'webhook_limit_reached',
        });
      }
      this.stmt.insertWebhook.run(webhook.id, orgId, url, secret, webhook.createdAtMs);
      this.audit(orgId, actor, 'webhook.add', webhook.id, null, webhook);
    });
    return { webhook, secret };
  }

  async removeWebhook(actor: string, orgId: string, webhookId: string): Promise<void> {
    this.storage.tx(() => {
      this.check(actor, orgId, 'manage');
      const row = this.stmt.webhook.get(webhookId, orgId);
      if (!row) throw new NotFoundError('webhook not found', { code: 'webhook_not_found' });
      this.stmt.removeWebhook.run(this.clock(), webhookId);
      this.stmt.cancelDeliveries.run(webhookId);
      this.audit(orgId, actor, 'webhook.remove', webhookId, toWebhook(row), null);
    });
  }

  async listWebhooks(actor: string, orgId: string): Promise<Webhook[]> {
    this.check(actor, orgId, 'manage');
    return this.stmt.liveWebhooks.all(orgId).map(toWebhook);
  }

  async listAlerts(actor: string, orgId: string) {
    this.check(actor, orgId, 'read');
    const limit = alertLimits.alertsListMax;
    return withDeliveries(this.stmt.alerts.all(orgId, limit), this.stmt.deliveriesOf.all(orgId, limit));
  }

  async raiseAlerts(): Promise<BudgetAlert[]> {
    const keys = currentPeriodKeys(this.clock, this.epochSeconds);
    const nowMs = this.clock();
    const due = this.stmt.scan
      .all(keys.EPOCH, keys.MONTH)
      .flatMap((row) => alertsDue(row, nowMs))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    if (due.length === 0) return [];
    return this.storage.tx(() => due.filter((alert) => this.insertAlert(alert, nowMs)));
  }

  /** The alert and a pending delivery per live webhook; false when another raise made it first. */
  private insertAlert(alert: BudgetAlert, nowMs: number): boolean {
    const { changes } = this.stmt.insertAlert.run(
      alert.id,
      alert.orgId,
      alert.scope,
      alert.scopeId,
      alert.currency,
      alert.period,
      alert.periodKey,
      alert.thresholdPercent,
      alert.amountNano,
      alert.spentNano,
      alert.createdAtMs,
    );
    if (Number(changes) === 0) return false;
    this.stmt.insertDeliveries.run(alert.id, nowMs, alert.orgId);
    return true;
  }

  async dueDeliveries(limit: number): Promise<DueDelivery[]> {
    const nowMs = this.clock();
    return this.storage.tx(() =>
      this.stmt.due.all(nowMs, limit).map((row) => {
        this.stmt.lease.run(nowMs + alertLimits.deliveryLeaseMs, row.alert_id as string, row.webhook_id as string);
        return dueDeliveryOf(row);
      }),
    );
  }

  async recordDelivery(input: {
    alertId: string;
    webhookId: string;
    delivered: boolean;
    error?: string | null;
    nextAttemptAtMs?: number | null;
  }): Promise<void> {
    this.storage.tx(() => {
      if (!this.stmt.delivery.get(input.alertId, input.webhookId)) {
        throw new NotFoundError('delivery not found', { code: 'delivery_not_found' });
      }
      if (input.delivered) this.stmt.delivered.run(this.clock(), input.alertId, input.webhookId);
      else {
        const next = input.nextAttemptAtMs ?? null;
        this.stmt.failed.run(next, boundedError(input.error ?? 'failed'), input.alertId, input.webhookId);
      }
    });
  }

  private audit(orgId: string, actor: string, action: string, id: string, before: unknown, after: unknown): void {
    const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
    this.stmt.audit.run(orgId, actor, action, `webhook:${id}`, json(before), json(after), this.clock());
  }
}
