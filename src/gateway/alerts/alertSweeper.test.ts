/**
 * The alert sweeper as the gateway server runs it: on both adapters, a real port, a real receiver on loopback. Spend
 * past a threshold reaches the receiver within a few passes and shows in /metrics; once the server is closed, the
 * sweeper no longer runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { openSeeded, type SeededLedgers } from '../../ledger/alerts/testing/alertSeed.ts';
import { gatewayLogger } from '../app.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhookReceiver.ts';

const usd = (n: number) => BigInt(n) * 1_000_000_000n;

describe.each(['sqlite', 'postgres'] as const)('the gateway server sweeps alerts (%s)', (adapter) => {
  let opened: SeededLedgers;
  let server: GatewayServer;
  let receiver: WebhookReceiver;
  let secret = '';

  beforeEach(async () => {
    opened = await openSeeded(adapter, Date.now);
    const [ledger] = opened.ledgers;
    receiver = await startWebhookReceiver(() => secret);
    await opened.seed.org('org_a', { acct_owner: 'OWNER' });
    secret = (await ledger!.addWebhook('acct_owner', 'org_a', { url: receiver.url })).secret;
    await opened.seed.budget({
      scopeId: 'prj_1',
      orgId: 'org_a',
      currency: 'DIEM',
      period: 'EPOCH',
      amountNano: usd(10),
    });
    server = await startGatewayServer({
      ledger: ledger!,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      logger: gatewayLogger('silent'),
      alertIntervalMs: 100,
    });
  });
  afterEach(async () => {
    await server.close();
    await receiver.close();
    await opened.close();
  });

  it('raises and delivers an alert within a few passes, counts it in /metrics, and stops with the server', async () => {
    const periodKey = `EPOCH:${epochAt(Date.now())}`;
    await opened.seed.spend('prj_1', 'DIEM', periodKey, usd(8));
    await expect.poll(() => receiver.requests.length, { timeout: 10_000, interval: 50 }).toBe(2);
    expect(receiver.requests.every((r) => r.verified && r.status === 200)).toBe(true);
    // The pass ends (and is counted) once the ledger has recorded what the receiver answered.
    const metrics = () => fetch(`${server.url}/metrics`).then((response) => response.text());
    await expect.poll(metrics, { timeout: 5_000 }).toContain('perdiem_webhook_deliveries_total{outcome="delivered"} 2');
    expect(await metrics()).toContain('perdiem_budget_alerts_raised_total 2');

    await server.close();
    await opened.seed.spend('prj_1', 'DIEM', periodKey, usd(10));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toHaveLength(2);
  });
});
