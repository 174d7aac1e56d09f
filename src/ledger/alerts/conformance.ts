/**
 * The budget alerts and webhooks every Ledger adapter must show (AlertsLedger). `describeLedgerConformance`
 * (../conformance.ts) runs it once per adapter. Organizations, budgets and settled spend are written straight into
 * their tables (testing/alertSeed.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { day, expectError, start, usd } from '../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { Ledger } from '../types.ts';
import { alertLimits } from './alertRules.ts';
import { type AlertSeed, openSeeded, type SeededLedgers } from './testing/alertSeed.ts';

const [owner, admin, member, stranger] = ['acct_owner', 'acct_admin', 'acct_member', 'acct_stranger'];
const epochKey = (ms: number) => `EPOCH:${epochAt(ms)}`;
const monthKey = (ms: number) => `MONTH:${new Date(ms).toISOString().slice(0, 7)}`;

export function describeAlertsConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: alerts`, () => {
    let clock: FakeClock;
    let opened: SeededLedgers;
    let ledger: Ledger;
    let seed: AlertSeed;

    beforeEach(async () => {
      clock = fakeClock(start);
      opened = await openSeeded(harness.name, clock.now, 2);
      [ledger] = opened.ledgers as [Ledger];
      seed = opened.seed;
      await seed.org('org_a', { [owner]: 'OWNER', [admin]: 'ADMIN', [member]: 'MEMBER' });
    });
    afterEach(async () => {
      await opened.close();
    });

    const thresholdsOf = (alerts: { thresholdPercent: number }[]) =>
      alerts.map((a) => a.thresholdPercent).sort((x, y) => x - y);

    it('raises each threshold once per period, and again in the next period', async () => {
      await seed.budget({ scopeId: 'prj_1', orgId: 'org_a', currency: 'USD', period: 'EPOCH', amountNano: usd(100) });
      await seed.spend('prj_1', 'USD', epochKey(clock.now()), usd(49.99));
      expect(await ledger.raiseAlerts()).toEqual([]);
      await seed.spend('prj_1', 'USD', epochKey(clock.now()), usd(50));
      const [first, ...none] = await ledger.raiseAlerts();
      expect(none).toEqual([]);
      expect(first).toMatchObject({
        orgId: 'org_a',
        scope: 'PROJECT',
        scopeId: 'prj_1',
        currency: 'USD',
        period: 'EPOCH',
        periodKey: epochKey(start),
        thresholdPercent: 50,
        amountNano: usd(100),
        spentNano: usd(50),
        createdAtMs: start,
      });
      expect(await ledger.raiseAlerts()).toEqual([]);
      await seed.spend('prj_1', 'USD', epochKey(clock.now()), usd(120));
      expect(thresholdsOf(await ledger.raiseAlerts())).toEqual([80, 100]);
      expect(await ledger.raiseAlerts()).toEqual([]);

      clock.advance(day);
      expect(await ledger.raiseAlerts()).toEqual([]);
      await seed.spend('prj_1', 'USD', epochKey(clock.now()), usd(80));
      const next = await ledger.raiseAlerts();
      expect(thresholdsOf(next)).toEqual([50, 80]);
      expect(next[0]!.periodKey).toBe(epochKey(start + day));
      expect(next.map((a) => a.id)).not.toContain(first!.id);
      const listed = await ledger.listAlerts(member, 'org_a');
      expect(listed.map(({ alert }) => alert.createdAtMs)).toEqual([start + day, start + day, start, start, start]);
    });

    it('counts the classes a budget covers: DIEM, USD, or both for TOTAL, per epoch or month', async () => {
      const budget = { orgId: 'org_a', period: 'MONTH' as const, amountNano: usd(10), thresholds: [50] };
      await seed.budget({ ...budget, scopeId: 'prj_d', currency: 'DIEM' });
      await seed.budget({ ...budget, scopeId: 'prj_u', currency: 'USD' });
      await seed.budget({ ...budget, scopeId: 'prj_t', currency: 'TOTAL' });
      await seed.budget({ ...budget, scopeId: 'prj_t', currency: 'TOTAL', period: 'EPOCH' });
      for (const scopeId of ['prj_d', 'prj_u', 'prj_t']) {
        await seed.spend(scopeId, 'DIEM', monthKey(start), usd(3));
        await seed.spend(scopeId, 'USD', monthKey(start), usd(3));
      }
      // Spend of another period or class counts for nothing.
      await seed.spend('prj_d', 'USD', monthKey(start), usd(9));
      await seed.spend('prj_u', 'DIEM', monthKey(start - 40 * day), usd(9));
      const raised = await ledger.raiseAlerts();
      expect(raised.map((a) => `${a.scopeId}:${a.currency}:${a.period}:${a.spentNano}`)).toEqual([
        `prj_t:TOTAL:MONTH:${usd(6)}`,
      ]);
      expect(raised[0]!.periodKey).toBe(monthKey(start));
    });

    it('a budget of 0 reaches every threshold at its first spend; no spend raises nothing', async () => {
      await seed.budget({ scopeId: 'prj_0', orgId: 'org_a', currency: 'TOTAL', period: 'EPOCH', amountNano: 0n });
      await seed.spend('prj_0', 'USD', epochKey(start), 0n);
      expect(await ledger.raiseAlerts()).toEqual([]);
      await seed.spend('prj_0', 'USD', epochKey(start), 1n);
      expect(thresholdsOf(await ledger.raiseAlerts())).toEqual([50, 80, 100]);
      // Exact at the boundary, however large the amounts.
      const huge = 4_000_000_000_000_000_002n;
      await seed.budget({ scopeId: 'prj_h', orgId: 'org_a', currency: 'USD', period: 'EPOCH', amountNano: huge });
      await seed.spend('prj_h', 'USD', epochKey(start), huge / 2n - 1n);
      expect(await ledger.raiseAlerts()).toEqual([]);
      await seed.spend('prj_h', 'USD', epochKey(start), huge / 2n);
      expect((await ledger.raiseAlerts()).map((a) => [a.thresholdPercent, a.spentNano])).toEqual([[50, huge / 2n]]);
    });

    it('raises an alert once when replicas raise at the same time', async () => {
      const webhook = await ledger.addWebhook(owner, 'org_a', { url: 'http://127.0.0.1:9/hook' });
      const replicas = [...opened.ledgers, await opened.reopen(), await opened.reopen()];
      for (let round = 0; round < 5; round++) {
        const scopeId = `prj_race_${round}`;
        await seed.budget({ scopeId, orgId: 'org_a', currency: 'USD', period: 'EPOCH', amountNano: usd(1) });
        await seed.spend(scopeId, 'USD', epochKey(start), usd(1));
        const raised = (await Promise.all(replicas.map((replica) => replica.raiseAlerts()))).flat();
        expect(thresholdsOf(raised)).toEqual([50, 80, 100]);
      }
      // Many budgets at once, raised by four replicas together.
      for (let i = 0; i < 40; i++) {
        const scopeId = `prj_many_${i}`;
        await seed.budget({ scopeId, orgId: 'org_a', currency: 'TOTAL', period: 'MONTH', amountNano: usd(1) });
        await seed.spend(scopeId, 'DIEM', monthKey(start), usd(0.5));
      }
      const many = (await Promise.all(replicas.map((replica) => replica.raiseAlerts()))).flat();
      expect(new Set(many.map((a) => a.id)).size).toBe(40);
      expect(many).toHaveLength(40);
      const listed = await ledger.listAlerts(owner, 'org_a');
      expect(listed).toHaveLength(55);
      for (const { deliveries } of listed) expect(deliveries.map((d) => d.webhookId)).toEqual([webhook.webhook.id]);
    });

    it('delivers to every live webhook, leases a due delivery, and records retries, success and giving up', async () => {
      const a = await ledger.addWebhook(owner, 'org_a', { url: 'https://example.com/a' });
      const b = await ledger.addWebhook(admin, 'org_a', { url: 'http://127.0.0.1:8080/b?x=1' });
      await seed.budget({ scopeId: 'prj_1', orgId: 'org_a', currency: 'USD', period: 'EPOCH', amountNano: usd(1) });
      await seed.spend('prj_1', 'USD', epochKey(start), usd(0.5));
      const [alert] = await ledger.raiseAlerts();
      const due = await ledger.dueDeliveries(10);
      const byUrl = (x: unknown[], y: unknown[]) => (String(x[1]) < String(y[1]) ? -1 : 1);
      expect(due.map((d) => [d.alert.id, d.webhook.url, d.attempts]).sort(byUrl)).toEqual(
        [
          [alert!.id, a.webhook.url, 0],
          [alert!.id, b.webhook.url, 0],
        ].sort(byUrl),
      );
      expect(due.find((d) => d.webhook.id === a.webhook.id)!.secret).toBe(a.secret);
      expect(due[0]!.alert).toEqual(alert);
      // Handed out: not due again (to this or another replica) until its lease ends.
      expect(await opened.ledgers[1]!.dueDeliveries(10)).toEqual([]);
      await ledger.recordDelivery({ alertId: alert!.id, webhookId: a.webhook.id, delivered: true });
      await ledger.recordDelivery({
        alertId: alert!.id,
        webhookId: b.webhook.id,
        delivered: false,
        error: 'HTTP 500',
        nextAttemptAtMs: start + 1_000,
      });
      clock.advance(1_000);
      const retry = await ledger.dueDeliveries(10);
      expect(retry.map((d) => [d.webhook.id, d.attempts])).toEqual([[b.webhook.id, 1]]);
      await ledger.recordDelivery({ alertId: alert!.id, webhookId: b.webhook.id, delivered: false, error: 'x' });
      clock.advance(alertLimits.deliveryLeaseMs * 10);
      expect(await ledger.dueDeliveries(10)).toEqual([]);
      const { deliveries } = (await ledger.listAlerts(member, 'org_a'))[0]!;
      expect(deliveries).toEqual(
        expect.arrayContaining([
          {
            alertId: alert!.id,
            webhookId: a.webhook.id,
            attempts: 1,
            nextAttemptAtMs: null,
            deliveredAtMs: start,
            lastError: null,
          },
          {
            alertId: alert!.id,
            webhookId: b.webhook.id,
            attempts: 2,
            nextAttemptAtMs: null,
            deliveredAtMs: null,
            lastError: 'x',
          },
        ]),
      );
      await expectError(
        ledger.recordDelivery({ alertId: 'alert_missing', webhookId: a.webhook.id, delivered: true }),
        404,
        'delivery_not_found',
      );
    });

    it('a delivery handed out but never recorded (a crash) is due again once its lease ends, on a restarted ledger', async () => {
      await ledger.addWebhook(owner, 'org_a', { url: 'https://example.com/a' });
      await seed.budget({ scopeId: 'prj_1', orgId: 'org_a', currency: 'USD', period: 'EPOCH', amountNano: usd(1) });
      await seed.spend('prj_1', 'USD', epochKey(start), usd(1));
      expect(await ledger.raiseAlerts()).toHaveLength(3);
      expect(await ledger.dueDeliveries(2)).toHaveLength(2);
      const restarted = await opened.reopen();
      expect(await restarted.dueDeliveries(10)).toHaveLength(1);
      clock.advance(alertLimits.deliveryLeaseMs - 1);
      expect(await restarted.dueDeliveries(10)).toEqual([]);
      clock.advance(1);
      expect(await restarted.dueDeliveries(10)).toHaveLength(3);
    });

    it('a removed webhook gets no more deliveries', async () => {
      const kept = await ledger.addWebhook(owner, 'org_a', { url: 'https://example.com/kept' });
      const gone = await ledger.addWebhook(owner, 'org_a', { url: 'https://example.com/gone' });
      await seed.budget({ scopeId: 'prj_1', orgId: 'org_a', currency: 'USD', period: 'EPOCH', amountNano: usd(1) });
      await seed.spend('prj_1', 'USD', epochKey(start), usd(0.5));
      await ledger.raiseAlerts();
      await ledger.removeWebhook(admin, 'org_a', gone.webhook.id);
      await expectError(ledger.removeWebhook(admin, 'org_a', gone.webhook.id), 404, 'webhook_not_found');
      expect((await ledger.listWebhooks(owner, 'org_a')).map((w) => w.id)).toEqual([kept.webhook.id]);
      await seed.spend('prj_1', 'USD', epochKey(start), usd(0.8));
      await ledger.raiseAlerts();
      expect(new Set((await ledger.dueDeliveries(10)).map((d) => d.webhook.id))).toEqual(new Set([kept.webhook.id]));
    });

    it('lets owners and admins manage webhooks, members read alerts, and hides the organization from others', async () => {
      const created = await ledger.addWebhook(admin, 'org_a', { url: 'https://example.com/hook' });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
      expect(created.webhook).toEqual({
        id: created.webhook.id,
        orgId: 'org_a',
        url: 'https://example.com/hook',
        createdAtMs: start,
      });
      expect(JSON.stringify(await ledger.listWebhooks(owner, 'org_a'))).not.toContain(created.secret);
      expect(await ledger.listAlerts(member, 'org_a')).toEqual([]);
      await expectError(ledger.addWebhook(member, 'org_a', { url: 'https://example.com/m' }), 403, 'forbidden');
      await expectError(ledger.removeWebhook(member, 'org_a', created.webhook.id), 403, 'forbidden');
      await expectError(ledger.listWebhooks(member, 'org_a'), 403, 'forbidden');
      for (const actor of [stranger]) {
        await expectError(ledger.listAlerts(actor, 'org_a'), 404, 'organization_not_found');
        await expectError(ledger.addWebhook(actor, 'org_a', { url: 'https://x.test' }), 404, 'organization_not_found');
        await expectError(ledger.listWebhooks(actor, 'org_a'), 404, 'organization_not_found');
      }
      await expectError(ledger.listAlerts(owner, 'org_missing'), 404, 'organization_not_found');
      await seed.org('org_b', { [stranger]: 'OWNER' });
      await expectError(ledger.removeWebhook(stranger, 'org_b', created.webhook.id), 404, 'webhook_not_found');
    });

    it('reads organizations, roles and budgets made through the teams ledger', async () => {
      const [boss, helper] = [await ledger.createAccount(), await ledger.createAccount()];
      const org = await ledger.createOrg(boss.id, { name: 'Acme' });
      await ledger.setMember(boss.id, org.id, { accountId: helper.id, role: 'MEMBER' });
      const project = await ledger.createProject(boss.id, org.id, { name: 'search' });
      const budget = { currency: 'TOTAL' as const, period: 'MONTH' as const, amountNano: usd(10) };
      await ledger.setBudget(boss.id, { ...budget, scopeId: project.id, alertThresholds: [25, 75] });
      await ledger.setBudget(boss.id, { ...budget, scopeId: org.id });
      await expectError(ledger.addWebhook(helper.id, org.id, { url: 'https://example.com/h' }), 403, 'forbidden');
      const hook = await ledger.addWebhook(boss.id, org.id, { url: 'https://example.com/h' });
      await seed.spend(project.id, 'DIEM', monthKey(start), usd(3));
      await seed.spend(org.id, 'USD', monthKey(start), usd(6));
      const raised = await ledger.raiseAlerts();
      expect(raised.map((a) => `${a.scope}:${a.thresholdPercent}`).sort()).toEqual(['ORGANIZATION:50', 'PROJECT:25']);
      const listed = await ledger.listAlerts(helper.id, org.id);
      expect(listed.flatMap(({ deliveries }) => deliveries.map((d) => d.webhookId))).toEqual([
        hook.webhook.id,
        hook.webhook.id,
      ]);
      await ledger.removeMember(boss.id, org.id, helper.id);
      await expectError(ledger.listAlerts(helper.id, org.id), 404, 'organization_not_found');
      const audit = await ledger.auditLog(boss.id, org.id);
      expect(audit.filter((entry) => entry.action === 'webhook.add').map((entry) => entry.target)).toEqual([
        `webhook:${hook.webhook.id}`,
      ]);
    });

    it('refuses webhook URLs that are not http(s), carry credentials or are too long, and caps their number', async () => {
      const long = `https://example.com/${'a'.repeat(alertLimits.webhookUrlLengthMax)}`;
      for (const url of ['ftp://example.com', 'javascript:alert(1)', 'example.com/x', '', long, 'https://u:p@x.test']) {
        await expectError(ledger.addWebhook(owner, 'org_a', { url }), 400, 'invalid_request', 'url');
      }
      expect(await ledger.listWebhooks(owner, 'org_a')).toEqual([]);
      for (let i = 0; i < alertLimits.webhooksPerOrgMax; i++) {
        await ledger.addWebhook(owner, 'org_a', { url: `https://example.com/${i}` });
      }
      await expectError(
        ledger.addWebhook(owner, 'org_a', { url: 'https://example.com/one-more' }),
        409,
        'webhook_limit_reached',
      );
    });
  });
}
