import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../../core/money.ts';
import { createGateway, gatewayLogger } from '../app.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';
import { type InProcessGateway, startInProcessGateway } from '../testing/inProcess.ts';

const chat = { model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };

describe('API key authentication (remembered per gateway)', () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    gw = await startInProcessGateway();
  });
  afterAll(async () => gw?.close());

  async function createKey(json: Record<string, unknown> = {}): Promise<{ id: string; apiKey: string }> {
    const created = await gw.request('/api/v1/api_keys', {
      key: gw.adminKey,
      json: { apiKeyType: 'INFERENCE', description: 'k', ...json },
    });
    expect(created.status).toBe(201);
    return ((await created.json()) as { data: { id: string; apiKey: string } }).data;
  }

  it('refuses a key revoked through the API on its very next request', async () => {
    const key = await createKey();
    expect((await gw.request('/v1/models', { key: key.apiKey })).status).toBe(200);
    expect((await gw.request(`/api/v1/api_keys?id=${key.id}`, { method: 'DELETE', key: gw.adminKey })).status).toBe(
      200,
    );
    const refused = await gw.request('/v1/models', { key: key.apiKey });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('api_key_revoked');
    expect((await gw.request('/v1/chat/completions', { key: key.apiKey, json: chat })).status).toBe(401);
  });

  it('applies an expiry set through the API to a key it already authenticated', async () => {
    const key = await createKey();
    expect((await gw.request('/v1/models', { key: key.apiKey })).status).toBe(200);
    const expiresAt = new Date(gw.clock.now() + 60_000).toISOString();
    const patched = await gw.request('/api/v1/api_keys', {
      method: 'PATCH',
      key: gw.adminKey,
      json: { id: key.id, expiresAt },
    });
    expect(patched.status).toBe(200);
    gw.clock.advance(60_000);
    expect((await gw.request('/v1/models', { key: key.apiKey })).status).toBe(401);
  });

  it('refuses a remembered key exactly at its expiry', async () => {
    const key = await createKey({ expiresAt: new Date(gw.clock.now() + 60_000).toISOString() });
    expect((await gw.request('/v1/models', { key: key.apiKey })).status).toBe(200);
    gw.clock.advance(59_999);
    expect((await gw.request('/v1/models', { key: key.apiKey })).status).toBe(200);
    gw.clock.advance(1);
    const refused = await gw.request('/v1/models', { key: key.apiKey });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('api_key_expired');
  });

  it('refuses metering at once to a key revoked through another gateway', async () => {
    const other = createGateway({
      ledger: gw.ledger,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      clock: gw.clock.now,
      logger: gatewayLogger('silent'),
    });
    const key = await createKey();
    expect((await gw.request('/v1/chat/completions', { key: key.apiKey, json: chat })).status).toBe(200);
    const revoked = await other.request(`/api/v1/api_keys?id=${key.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${gw.adminKey}` },
    });
    expect(revoked.status).toBe(200);
    const refused = await gw.request('/v1/chat/completions', { key: key.apiKey, json: chat });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('api_key_revoked');
  });
});

describe('x-balance-* headers', () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    gw = await startInProcessGateway();
    await gw.ledger.addFunds({ accountId: gw.accountId, source: 'USD', amountNano: 2_500_000_000n, reference: 'usd' });
  });
  afterAll(async () => gw?.close());

  async function expectBalanceHeaders(response: Response): Promise<void> {
    const balance = await gw.ledger.balance(gw.accountId);
    expect(response.headers.get('x-balance-diem')).toBe(formatUsd(balance.diem.availableNano));
    expect(response.headers.get('x-balance-usd')).toBe(formatUsd(balance.usd.availableNano));
    expect(response.headers.get('x-balance-credits')).toBe(formatUsd(balance.credits.availableNano));
  }

  it('gives a metered answer the balance before it, so the next answer shows its charge', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const first = await gw.request('/v1/chat/completions', { json: chat });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-balance-diem')).toBe(formatUsd(before.diem.availableNano));
    expect(first.headers.get('x-balance-usd')).toBe('2.5');
    const afterFirst = await gw.ledger.balance(gw.accountId);
    expect(afterFirst.diem.availableNano).toBeLessThan(before.diem.availableNano);
    const second = await gw.request('/v1/chat/completions', { json: { ...chat, stream: true } });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-balance-diem')).toBe(formatUsd(afterFirst.diem.availableNano));
    await second.text();
  });

  it('gives them to answers refused before or at the reservation, and to other routes', async () => {
    const invalid = await gw.request('/v1/chat/completions', { json: { ...chat, bogus: 1 } });
    expect(invalid.status).toBe(400);
    await expectBalanceHeaders(invalid);
    const headers = { 'idempotency-key': 'once' };
    expect((await gw.request('/v1/chat/completions', { json: chat, headers })).status).toBe(200);
    const replayed = await gw.request('/v1/chat/completions', { json: chat, headers });
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    await expectBalanceHeaders(replayed);
    await expectBalanceHeaders(await gw.request('/v1/models'));
    await expectBalanceHeaders(await gw.request('/api/v1/billing/balance'));
    await expectBalanceHeaders(await gw.request('/api/v1/api_keys/rate_limits'));
  });
});
