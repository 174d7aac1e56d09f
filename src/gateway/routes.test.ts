import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../core/epoch.ts';
import { fakeModels } from './testing/fakeRegistry.ts';
import { type InProcessGateway, operatorToken, startInProcessGateway } from './testing/inProcess.ts';

const model = fakeModels.text;
const chat = { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };

describe('rate limits', () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    gw = await startInProcessGateway({ rateLimits: { key: { requestsPerMinute: 3, tokensPerMinute: 1_000_000 } } });
  });
  afterAll(async () => gw?.close());

  it('refuses the request past the key RPM with 429, Retry-After and x-ratelimit headers, and refills', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await gw.request('/v1/chat/completions', { json: chat });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe(String(2 - i));
      expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');
    }
    const before = await gw.ledger.journal({ limit: 10_000 });
    const refused = await gw.request('/v1/chat/completions', { json: chat });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-perdiem-refused-by')).toBe('key');
    const body = (await refused.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(await gw.ledger.journal({ limit: 10_000 })).toHaveLength(before.length);
    gw.clock.advance(20_000);
    expect((await gw.request('/v1/chat/completions', { json: chat })).status).toBe(200);
  });

  it('reports the buckets at /api/v1/api_keys/rate_limits', async () => {
    const response = await gw.request('/api/v1/api_keys/rate_limits');
    const body = (await response.json()) as { data: { rateLimits: { key: { RPM: { limit: number } } } } };
    expect(body.data.rateLimits.key.RPM.limit).toBe(3);
  });
});

describe('per-key rate-limit overrides', () => {
  it("applies a key's own RPM and TPM (set through the api_keys routes) in place of the defaults, and clears them", async () => {
    const gw = await startInProcessGateway({
      rateLimits: { key: { requestsPerMinute: 50, tokensPerMinute: 100_000 } },
    });
    try {
      const created = await gw.request('/api/v1/api_keys', {
        key: gw.adminKey,
        json: { apiKeyType: 'INFERENCE', description: 'slow', rateLimits: { requestsPerMinute: 2 } },
      });
      expect(created.status).toBe(201);
      const { data } = (await created.json()) as { data: { id: string; apiKey: string; rateLimits: unknown } };
      expect(data.rateLimits).toEqual({ requestsPerMinute: 2, tokensPerMinute: null });
      for (let i = 0; i < 2; i++) {
        const ok = await gw.request('/v1/chat/completions', { key: data.apiKey, json: chat });
        expect(ok.status).toBe(200);
        expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('2');
        // The key has no TPM override: the default is in force.
        expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      }
      expect((await gw.request('/v1/chat/completions', { key: data.apiKey, json: chat })).status).toBe(429);
      const report = (await (await gw.request('/api/v1/api_keys/rate_limits', { key: data.apiKey })).json()) as {
        data: { rateLimits: { key: { RPM: { limit: number; remaining: number }; overridden: boolean } } };
      };
      expect(report.data.rateLimits.key).toMatchObject({ RPM: { limit: 2, remaining: 0 }, overridden: true });

      const patched = await gw.request('/api/v1/api_keys', {
        method: 'PATCH',
        key: gw.adminKey,
        json: { id: data.id, rateLimits: { tokensPerMinute: 40 } },
      });
      // A field the update leaves out keeps its value; null returns it to the default.
      expect(((await patched.json()) as { data: { rateLimits: unknown } }).data.rateLimits).toEqual({
        requestsPerMinute: 2,
        tokensPerMinute: 40,
      });
      gw.clock.advance(60_000);
      const tokens = await gw.request('/v1/chat/completions', { key: data.apiKey, json: chat });
      expect(tokens.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(tokens.headers.get('x-ratelimit-limit-tokens')).toBe('40');
      const unset = await gw.request('/api/v1/api_keys', {
        method: 'PATCH',
        key: gw.adminKey,
        json: { id: data.id, rateLimits: { requestsPerMinute: null } },
      });
      expect(((await unset.json()) as { data: { rateLimits: unknown } }).data.rateLimits).toEqual({
        requestsPerMinute: null,
        tokensPerMinute: 40,
      });

      const cleared = await gw.request('/api/v1/api_keys', {
        method: 'PATCH',
        key: gw.adminKey,
        json: { id: data.id, rateLimits: null },
      });
      expect(((await cleared.json()) as { data: { rateLimits: unknown } }).data.rateLimits).toBeNull();
      const defaults = await gw.request('/v1/chat/completions', { key: data.apiKey, json: chat });
      expect(defaults.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    } finally {
      await gw.close();
    }
  });

  it('refuses a bad override with a 400 naming the field, and creates nothing', async () => {
    const gw = await startInProcessGateway();
    try {
      const before = (await gw.ledger.listKeys(gw.accountId)).length;
      const refused = await gw.request('/api/v1/api_keys', {
        key: gw.adminKey,
        json: { apiKeyType: 'INFERENCE', description: 'bad', rateLimits: { requestsPerMinute: 0 } },
      });
      expect(refused.status).toBe(400);
      const body = (await refused.json()) as { error: { param: string } };
      expect(body.error.param).toBe('rateLimits.requestsPerMinute');
      expect(await gw.ledger.listKeys(gw.accountId)).toHaveLength(before);
    } finally {
      await gw.close();
    }
  });
});

describe('token rate limits', () => {
  it('refuses a request whose token estimate exceeds what is left of the TPM bucket', async () => {
    const gw = await startInProcessGateway({ rateLimits: { key: { requestsPerMinute: 100, tokensPerMinute: 200 } } });
    try {
      const big = { ...chat, max_tokens: 150 };
      expect((await gw.request('/v1/chat/completions', { json: big })).status).toBe(200);
      const refused = await gw.request('/v1/chat/completions', { json: big });
      // The first request used 12 real tokens and was refunded the rest, so only a request over the bucket fails.
      expect(refused.status).toBe(200);
      const huge = await gw.request('/v1/chat/completions', { json: { ...chat, max_tokens: 100_000 } });
      expect(huge.status).toBe(429);
    } finally {
      await gw.close();
    }
  });
});

describe('idempotency', () => {
  it('charges a retried request once and replays its answer to the retry', async () => {
    const gw = await startInProcessGateway();
    try {
      const headers = { 'idempotency-key': 'retry-me' };
      const first = await gw.request('/v1/chat/completions', { json: chat, headers });
      expect(first.status).toBe(200);
      const journal = (await gw.ledger.journal({ limit: 10_000 })).length;
      const again = await gw.request('/v1/chat/completions', { json: chat, headers });
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(await first.json());
      expect((await gw.ledger.journal({ limit: 10_000 })).length).toBe(journal);
      const other = await gw.request('/v1/chat/completions', { json: { ...chat, max_tokens: 2 }, headers });
      expect(other.status).toBe(422);
      expect((await gw.ledger.journal({ limit: 10_000 })).length).toBe(journal);
    } finally {
      await gw.close();
    }
  });
});

describe('key management', () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    gw = await startInProcessGateway();
  });
  afterAll(async () => gw?.close());

  it('creates a limited key with an ADMIN key, shows the secret once, and enforces its limit with 402', async () => {
    const created = await gw.request('/api/v1/api_keys', {
      key: gw.adminKey,
      json: { apiKeyType: 'INFERENCE', description: 'limited', consumptionLimit: { diem: '0.00003' } },
    });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as { data: { id: string; apiKey: string; limits: unknown[] } };
    expect(data.apiKey).toMatch(/\S{16,}/);
    expect(data.limits).toEqual([{ currency: 'DIEM', period: 'EPOCH', amount: '0.00003', covers: ['DIEM'] }]);
    // 7 prompt + 3 output tokens at $1/$4 per 1M cost 19,000 nano; the prompt bound makes the quote larger.
    const refused = await gw.request('/v1/chat/completions', { key: data.apiKey, json: { ...chat, max_tokens: 100 } });
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('key_limit_exceeded');

    const listed = (await (await gw.request('/api/v1/api_keys')).json()) as { data: { id: string }[] };
    expect(listed.data.map((key) => key.id)).toContain(data.id);
    const patched = await gw.request('/api/v1/api_keys', {
      method: 'PATCH',
      key: gw.adminKey,
      json: { id: data.id, description: 'renamed' },
    });
    expect(((await patched.json()) as { data: { description: string } }).data.description).toBe('renamed');
    const deleted = await gw.request(`/api/v1/api_keys?id=${data.id}`, { method: 'DELETE', key: gw.adminKey });
    expect(deleted.status).toBe(200);
    expect((await gw.request('/v1/models', { key: data.apiKey })).status).toBe(401);
  });

  it('answers 403 for a model the key may not use', async () => {
    const created = await gw.request('/api/v1/api_keys', {
      key: gw.adminKey,
      json: { apiKeyType: 'INFERENCE', description: 'embed only', allowedModels: [fakeModels.embed] },
    });
    const { data } = (await created.json()) as { data: { apiKey: string } };
    const refused = await gw.request('/v1/chat/completions', { key: data.apiKey, json: chat });
    expect(refused.status).toBe(403);
  });
});

describe('operator and service routes', () => {
  let gw: InProcessGateway;
  const operator = { authorization: `Bearer ${operatorToken}` };
  beforeAll(async () => {
    gw = await startInProcessGateway();
  });
  afterAll(async () => gw?.close());

  it('reprices through /admin/prices from the next epoch, and requests from then on are charged at the new price', async () => {
    const nextEpoch = epochAt(gw.clock.now()) + 1;
    const nextEpochMs = nextEpoch * 86_400_000;
    await gw.ledger.setDiemAllowance(gw.accountId, nextEpoch, 10_000_000_000n);
    const sheet = {
      effectiveFrom: new Date(nextEpochMs).toISOString(),
      models: { [model]: { kind: 'text', inputPer1M: '10', outputPer1M: '10' } },
      override: { reason: 'a tenfold repricing, announced a day ahead' },
    };
    const posted = await gw.request('/admin/prices', { headers: operator, key: null, json: sheet });
    expect(posted.status).toBe(201);
    const cost = async () => {
      const response = await gw.request('/v1/chat/completions', { json: chat });
      return ((await response.json()) as { cost: { nanoUsd: string } }).cost.nanoUsd;
    };
    // 7 prompt tokens at $1 and 3 output tokens at $4 per 1M until the epoch ends; $10 and $10 from its start.
    gw.clock.advance(nextEpochMs - 1 - gw.clock.now());
    expect(await cost()).toBe(String(7 * 1_000 + 3 * 4_000));
    gw.clock.advance(1);
    expect(await cost()).toBe(String(10 * 10_000));
  });

  it('creates an account, grants credits once per reference, and sets a DIEM allowance', async () => {
    const created = await gw.request('/admin/accounts', { headers: operator, key: null, json: { name: 'acme' } });
    const { data } = (await created.json()) as { data: { account: { id: string }; apiKey: string } };
    const grant = { amount: '1.5', reference: 'grant-1' };
    const path = `/admin/accounts/${data.account.id}/credits`;
    expect((await gw.request(path, { headers: operator, key: null, json: grant })).status).toBe(201);
    expect((await gw.request(path, { headers: operator, key: null, json: grant })).status).toBe(200);
    const balance = await gw.ledger.balance(data.account.id);
    expect(balance.credits.availableNano).toBe(1_500_000_000n);
    const allowance = await gw.request(`/admin/accounts/${data.account.id}/diem-allowance`, {
      method: 'PUT',
      headers: operator,
      key: null,
      json: { amount: '2' },
    });
    expect(allowance.status).toBe(200);
    expect((await gw.ledger.balance(data.account.id)).diem.allowanceNano).toBe(2_000_000_000n);
  });

  it('sums the spend of the whole fleet by day for the operator, and refuses without the operator token', async () => {
    const other = await gw.request('/admin/accounts', { headers: operator, key: null, json: { name: 'other' } });
    const { data } = (await other.json()) as { data: { account: { id: string }; apiKey: string } };
    await gw.ledger.setDiemAllowance(data.account.id, epochAt(gw.clock.now()), 1_000_000_000n);
    expect((await gw.request('/v1/chat/completions', { json: chat, key: data.apiKey })).status).toBe(200);
    expect((await gw.request('/v1/chat/completions', { json: chat })).status).toBe(200);

    type Analytics = { byDay: { requests: number }[] };
    const mine = (await (await gw.request('/api/v1/billing/usage-analytics')).json()) as Analytics;
    const fleet = (await (
      await gw.request('/admin/usage-analytics', { headers: operator, key: null })
    ).json()) as Analytics;
    const requests = (analytics: Analytics) => analytics.byDay.reduce((sum, row) => sum + row.requests, 0);
    expect(requests(mine)).toBeGreaterThan(0);
    expect(requests(fleet)).toBe(requests(mine) + 1);
    expect((await gw.request('/admin/usage-analytics', { key: null })).status).toBe(401);
  });

  it('lists providers and models for the operator', async () => {
    const providers = (await (await gw.request('/admin/providers', { headers: operator, key: null })).json()) as {
      data: { id: string; health: { ok: boolean } }[];
    };
    expect(providers.data[0]).toMatchObject({ id: 'fake', health: { ok: true } });
    const models = await gw.request('/admin/models', { headers: operator, key: null });
    expect(models.status).toBe(200);
  });

  it('serves /metrics, /healthz and /openapi.json', async () => {
    await gw.request('/v1/chat/completions', { json: chat });
    const metrics = await (await gw.request('/metrics', { key: null })).text();
    expect(metrics).toContain('perdiem_requests_total{route="/v1/chat/completions",status="200"}');
    expect(metrics).toContain('perdiem_charged_nano_usd_total');
    expect(metrics).toContain('perdiem_request_duration_seconds_bucket');
    const health = (await (await gw.request('/healthz', { key: null })).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
    const openapi = (await (await gw.request('/openapi.json', { key: null })).json()) as {
      paths: Record<string, { post?: { requestBody?: unknown } }>;
    };
    expect(openapi.paths['/v1/chat/completions']?.post?.requestBody).toBeDefined();
    expect(openapi.paths['/api/v1/billing/balance']).toBeDefined();
    expect(openapi.paths['/api/v1/wallets']).toBeDefined();
    expect(openapi.paths['/api/v1/wallets/link']?.post?.requestBody).toBeDefined();
    expect(openapi.paths['/api/v1/api_keys/generate_web3_key']?.post?.requestBody).toBeDefined();
  });
});
