import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { openSeeded, type SeededLedgers } from '../../ledger/alerts/testing/alertSeed.ts';
import { type FakeClock, fakeClock } from '../../ledger/testing/fakeClock.ts';
import type { Ledger } from '../../ledger/types.ts';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhookReceiver.ts';
import { alertEventBody, deliverDueWebhooks, retryDelayMs, webhookLimits } from './webhookDelivery.ts';
import { isPrivateAddress, refusedDestination } from './webhookDestination.ts';
import { signWebhook, verifyWebhook, webhookHeaders } from './webhookSignature.ts';

const usd = (n: number) => BigInt(n) * 1_000_000_000n;

describe('webhook signatures (Standard Webhooks)', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const [id, timestamp, body] = ['msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'];
  const at = timestamp * 1000;

  it('matches the specification test vector', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies an authentic delivery, and refuses tampering, another secret, stale times and missing headers', () => {
    const headers = webhookHeaders(secret, id, timestamp, body);
    expect(verifyWebhook(secret, headers, body, 300, at)).toBe(true);
    expect(verifyWebhook(secret, new Headers(headers), body, 300, at + 299_000)).toBe(true);
    const several = { ...headers, 'webhook-signature': `v1,bm9wZQ== ${headers['webhook-signature']}` };
    expect(verifyWebhook(secret, several, body, 300, at)).toBe(true);
    expect(verifyWebhook(secret, headers, `${body} `, 300, at)).toBe(false);
    expect(verifyWebhook('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', headers, body, 300, at)).toBe(false);
    expect(verifyWebhook(secret, headers, body, 300, at + 301_000)).toBe(false);
    expect(verifyWebhook(secret, headers, body, 300, at - 301_000)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, 'webhook-id': 'msg_other' }, body, 300, at)).toBe(false);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const { [name]: _, ...missing } = headers;
      expect(verifyWebhook(secret, missing, body, 300, at)).toBe(false);
    }
  });
});

describe('retry back-off', () => {
  it('doubles from 1 s to a 10 min cap, dropping up to half at random', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, () => 0))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(10, () => 0)).toBe(512_000);
    expect(retryDelayMs(11, () => 0)).toBe(webhookLimits.retryDelayMsMax);
    expect(retryDelayMs(50, () => 0)).toBe(webhookLimits.retryDelayMsMax);
    expect(retryDelayMs(3, () => 1)).toBe(2_000);
  });
});

describe('webhook destinations', () => {
  it('tells private, loopback, link-local and multicast addresses from public ones', () => {
    const blocked = ['127.0.0.1', '10.1.2.3', '172.31.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0'];
    for (const address of [...blocked, '::1', '::', 'fd00::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '224.0.0.1']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('refuses a URL whose host is, or resolves to, a private address', async () => {
    const lookup = async (host: string) => (host === 'inside.test' ? ['93.184.216.34', '10.0.0.5'] : ['93.184.216.34']);
    expect(await refusedDestination('https://example.test/hook', lookup)).toBeNull();
    expect(await refusedDestination('https://inside.test/hook', lookup)).toMatch(/inside\.test is a private address/);
    expect(await refusedDestination('http://[::1]:8080/hook', lookup)).toMatch(/::1 is a private address/);
    expect(await refusedDestination('http://127.0.0.1:9/hook', lookup)).toMatch(/private address/);
  });
});

describe.each(['sqlite', 'postgres'] as const)('webhook delivery to a real receiver on loopback (%s)', (adapter) => {
  let clock: FakeClock;
  let opened: SeededLedgers;
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  let secret = '';
  const epochKey = () => `EPOCH:${epochAt(clock.now())}`;

  beforeEach(async () => {
    clock = fakeClock(Date.now());
    opened = await openSeeded(adapter, clock.now);
    [ledger] = opened.ledgers as [Ledger];
    receiver = await startWebhookReceiver(() => secret, clock.now);
    await opened.seed.org('org_a', { acct_owner: 'OWNER' });
    secret = (await ledger.addWebhook('acct_owner', 'org_a', { url: receiver.url })).secret;
    await opened.seed.budget({
      scopeId: 'prj_1',
      orgId: 'org_a',
      currency: 'USD',
      period: 'EPOCH',
      amountNano: usd(100),
    });
  });
  afterEach(async () => {
    await receiver.close().catch(() => {});
    await opened.close();
  });

  const deliver = (extra: { attemptsMax?: number; timeoutMs?: number; privateDestinations?: boolean } = {}) =>
    deliverDueWebhooks({ ledger, clock: clock.now, privateDestinations: true, ...extra });

  it('retries through a failing and then closed receiver, and delivers each alert once when it recovers', async () => {
    await opened.seed.spend('prj_1', 'USD', epochKey(), usd(85));
    const alerts = await ledger.raiseAlerts();
    expect(alerts.map((a) => a.thresholdPercent).sort()).toEqual([50, 80]);

    receiver.mode = 'fail';
    expect(await deliver()).toEqual({ delivered: 0, failed: 2, gaveUp: 0 });
    expect(await deliver()).toEqual({ delivered: 0, failed: 0, gaveUp: 0 });
    clock.advance(1_000);
    expect(await deliver()).toEqual({ delivered: 0, failed: 2, gaveUp: 0 });
    await receiver.close();
    clock.advance(2_000);
    expect(await deliver()).toEqual({ delivered: 0, failed: 2, gaveUp: 0 });
    const pending = (await ledger.listAlerts('acct_owner', 'org_a')).flatMap((a) => a.deliveries);
    expect(pending.map((d) => [d.attempts, d.deliveredAtMs])).toEqual([
      [3, null],
      [3, null],
    ]);
    expect(pending[0]!.lastError).toMatch(/fetch failed/);
    expect(pending[0]!.nextAttemptAtMs! - clock.now()).toBeGreaterThanOrEqual(2_000);

    await receiver.reopen();
    receiver.mode = 'ok';
    clock.advance(4_000);
    expect(await deliver()).toEqual({ delivered: 2, failed: 0, gaveUp: 0 });
    clock.advance(60 * 60_000);
    expect(await deliver()).toEqual({ delivered: 0, failed: 0, gaveUp: 0 });

    // Every request verified; each alert processed once; the retries carried the same id and body.
    expect(receiver.requests.every((r) => r.verified)).toBe(true);
    expect([...receiver.processed.keys()].sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(receiver.replays).toBe(4);
    for (const alert of alerts) {
      const ok = receiver.requests.filter((r) => r.id === alert.id && r.status === 200);
      expect(ok).toHaveLength(1);
      const bodies = new Set(receiver.requests.filter((r) => r.id === alert.id).map((r) => r.body));
      expect([...bodies]).toEqual([alertEventBody(alert)]);
    }
    const event = receiver.processed.get(alerts.find((a) => a.thresholdPercent === 80)!.id);
    expect(event).toMatchObject({
      type: 'budget.threshold',
      data: { orgId: 'org_a', scopeId: 'prj_1', thresholdPercent: 80, amount: '100', spent: '85' },
    });
    const states = (await ledger.listAlerts('acct_owner', 'org_a')).flatMap((a) => a.deliveries);
    expect(states.map((d) => [d.attempts, d.nextAttemptAtMs, d.lastError])).toEqual([
      [4, null, null],
      [4, null, null],
    ]);
  });

  it('gives up at once on a private destination unless private destinations are allowed', async () => {
    await opened.seed.spend('prj_1', 'USD', epochKey(), usd(50));
    await ledger.raiseAlerts();
    expect(await deliver({ privateDestinations: false })).toEqual({ delivered: 0, failed: 0, gaveUp: 1 });
    clock.advance(24 * 60 * 60_000);
    expect(await deliver()).toEqual({ delivered: 0, failed: 0, gaveUp: 0 });
    expect(receiver.requests).toEqual([]);
    const [state] = (await ledger.listAlerts('acct_owner', 'org_a')).flatMap((a) => a.deliveries);
    expect(state).toMatchObject({ attempts: 1, nextAttemptAtMs: null, deliveredAtMs: null });
    expect(state!.lastError).toMatch(/^destination not allowed: 127\.0\.0\.1 is a private address/);
  });

  it('times out a receiver that does not answer, and gives up after the last attempt', async () => {
    await opened.seed.spend('prj_1', 'USD', epochKey(), usd(50));
    await ledger.raiseAlerts();
    receiver.mode = 'hang';
    const started = Date.now();
    expect(await deliver({ timeoutMs: 200, attemptsMax: 2 })).toEqual({ delivered: 0, failed: 1, gaveUp: 0 });
    expect(Date.now() - started).toBeLessThan(3_000);
    receiver.mode = 'fail';
    clock.advance(1_000);
    expect(await deliver({ timeoutMs: 200, attemptsMax: 2 })).toEqual({ delivered: 0, failed: 0, gaveUp: 1 });
    receiver.mode = 'ok';
    clock.advance(24 * 60 * 60_000);
    expect(await deliver()).toEqual({ delivered: 0, failed: 0, gaveUp: 0 });
    const [state] = (await ledger.listAlerts('acct_owner', 'org_a')).flatMap((a) => a.deliveries);
    expect(state).toMatchObject({ attempts: 2, nextAttemptAtMs: null, deliveredAtMs: null, lastError: 'HTTP 500' });
  });
});
