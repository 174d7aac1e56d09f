import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rateLimitsDefault } from '../limits.ts';
import { fakeModels } from '../testing/fakeRegistry.ts';
import { type InProcessGateway, operatorToken, startInProcessGateway } from '../testing/inProcess.ts';

const model = fakeModels.text;
const chat = { model, messages: [{ role: 'user', content: 'hi' }] };
const operator = { authorization: `Bearer ${operatorToken}` };

type ErrorBody = { error: { type: string; code: string; param: string | null; message: string } };

describe('operator settings routes', () => {
  let gw: InProcessGateway;
  const admin = (path: string, init: { method?: string; json?: unknown } = {}) =>
    gw.request(path, { ...init, headers: operator, key: null });
  const history = async (kind: string) =>
    ((await (await admin(`/admin/settings/history?kind=${kind}`)).json()) as { data: unknown[] }).data;
  const listed = async () =>
    ((await (await gw.request('/v1/models')).json()) as { data: { id: string; model_spec: Record<string, unknown> }[] })
      .data;

  beforeEach(async () => {
    gw = await startInProcessGateway();
  });
  afterEach(async () => gw?.close());

  it('needs the operator token', async () => {
    expect((await gw.request('/admin/rate-limits', { key: null })).status).toBe(401);
    expect((await gw.request('/admin/models/x', { method: 'PATCH', json: { enabled: false } })).status).toBe(401);
  });

  it('disables a model: gone from /v1/models, 404 model_not_found, nothing charged; enabling brings it back', async () => {
    const patched = await admin(`/admin/models/${model}`, { method: 'PATCH', json: { enabled: false } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toEqual({ data: { id: model, enabled: false } });
    expect((await listed()).map((m) => m.id)).not.toContain(model);
    const before = await gw.ledger.journal({ limit: 10_000 });
    const refused = await gw.request('/v1/chat/completions', { json: chat });
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(await gw.ledger.journal({ limit: 10_000 })).toHaveLength(before.length);
    const models = (await (await admin('/admin/models')).json()) as { data: { id: string; enabled: boolean }[] };
    expect(models.data.find((m) => m.id === model)).toMatchObject({ enabled: false });

    await admin(`/admin/models/${model}`, { method: 'PATCH', json: { enabled: true } });
    expect((await listed()).map((m) => m.id)).toContain(model);
    expect((await gw.request('/v1/chat/completions', { json: chat })).status).toBe(200);
    expect(await history('models')).toHaveLength(2);
  });

  it('bounds a model by its context override, and removes the override with null', async () => {
    // The prompt bound of "hi" is 34 tokens; a 35-token context leaves room for one output token.
    await admin(`/admin/models/${model}`, { method: 'PATCH', json: { contextLength: 35 } });
    expect((await listed()).find((m) => m.id === model)?.model_spec.availableContextTokens).toBe(35);
    const bounded = (await (await gw.request('/v1/chat/completions', { json: chat })).json()) as {
      usage: { completion_tokens: number };
    };
    expect(bounded.usage.completion_tokens).toBe(1);

    const cleared = await admin(`/admin/models/${model}`, { method: 'PATCH', json: { contextLength: null } });
    expect(await cleared.json()).toEqual({ data: { id: model, enabled: true } });
    const free = (await (await gw.request('/v1/chat/completions', { json: chat })).json()) as {
      usage: { completion_tokens: number };
    };
    expect(free.usage.completion_tokens).toBe(5);
  });

  it('disables a provider: its models answer 503 and it shows as disabled', async () => {
    const patched = await admin('/admin/providers/fake', { method: 'PATCH', json: { enabled: false } });
    expect(await patched.json()).toEqual({ data: { id: 'fake', enabled: false, priority: 0 } });
    const refused = await gw.request('/v1/chat/completions', { json: chat });
    expect(refused.status).toBe(503);
    const providers = (await (await admin('/admin/providers')).json()) as { data: unknown[] };
    expect(providers.data[0]).toMatchObject({ id: 'fake', enabled: false, priority: 0, configuredPriority: 0 });
    await admin('/admin/providers/fake', { method: 'PATCH', json: { priority: 3 } });
    const again = (await (await admin('/admin/providers')).json()) as { data: unknown[] };
    expect(again.data[0]).toMatchObject({ enabled: false, priority: 3 });
  });

  it('sets rate limits in force at once, in the headers and at /api_keys/rate_limits', async () => {
    const limits = {
      key: { requestsPerMinute: 2, tokensPerMinute: 100_000 },
      account: { requestsPerMinute: 50, tokensPerMinute: 200_000 },
    };
    const put = await admin('/admin/rate-limits', { method: 'PUT', json: limits });
    expect(await put.json()).toEqual({ data: limits });
    expect(await (await admin('/admin/rate-limits')).json()).toEqual({ data: limits });
    const ok = await gw.request('/v1/chat/completions', { json: { ...chat, max_tokens: 3 } });
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect((await gw.request('/v1/chat/completions', { json: { ...chat, max_tokens: 3 } })).status).toBe(200);
    expect((await gw.request('/v1/chat/completions', { json: { ...chat, max_tokens: 3 } })).status).toBe(429);
    const report = (await (await gw.request('/api/v1/api_keys/rate_limits')).json()) as {
      data: { rateLimits: { key: { RPM: { limit: number } } } };
    };
    expect(report.data.rateLimits.key.RPM.limit).toBe(2);

    const reset = (await (await admin('/admin/rate-limits', { method: 'DELETE' })).json()) as { data: unknown };
    expect(reset.data).toEqual(rateLimitsDefault);
    const after = await gw.request('/v1/chat/completions', { json: { ...chat, max_tokens: 3 } });
    expect(after.headers.get('x-ratelimit-limit-requests')).toBe(String(rateLimitsDefault.key.requestsPerMinute));
    expect(await history('rateLimits')).toHaveLength(2);
  });

  it('answers bad input with an OpenAI-shaped 400 naming the field, and stores nothing', async () => {
    const cases: [string, string, unknown, string | null][] = [
      ['PUT', '/admin/rate-limits', { key: { requestsPerMinute: 1, tokensPerMinute: 1 } }, 'account'],
      [
        'PUT',
        '/admin/rate-limits',
        {
          key: { requestsPerMinute: 1.5, tokensPerMinute: 1 },
          account: { requestsPerMinute: 1, tokensPerMinute: 1 },
        },
        'key.requestsPerMinute',
      ],
      ['PATCH', `/admin/models/${model}`, { enabled: 'no' }, 'enabled'],
      ['PATCH', `/admin/models/${model}`, { contextLength: 4_097 }, 'contextLength'],
      ['PATCH', `/admin/models/${model}`, { contextLength: 0 }, 'contextLength'],
      ['PATCH', `/admin/models/${model}`, {}, 'enabled'],
      ['PATCH', `/admin/models/${model}`, { enabled: true, extra: 1 }, 'extra'],
      ['PATCH', '/admin/providers/fake', { priority: 'first' }, 'priority'],
      ['PATCH', '/admin/providers/fake', {}, 'enabled'],
      ['POST', '/admin/prices', { effectiveFrom: 'soon', models: {} }, 'effectiveFrom'],
      [
        'POST',
        '/admin/prices',
        { effectiveFrom: '2000-01-01T00:00:00Z', models: { [model]: { kind: 'text', inputPer1M: '1' } } },
        `models.${model}.outputPer1M`,
      ],
    ];
    for (const [method, path, json, param] of cases) {
      const response = await admin(path, { method, json });
      expect(response.status, `${method} ${path} ${JSON.stringify(json)}`).toBe(400);
      const body = (await response.json()) as ErrorBody;
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.param, `${method} ${path} ${JSON.stringify(json)}`).toBe(param);
    }
    // A sheet that does not go forward (the defaults start at 0) is refused too.
    const backwards = await admin('/admin/prices', {
      method: 'POST',
      json: { effectiveFrom: '1970-01-01T00:00:00Z', models: {} },
    });
    expect(((await backwards.json()) as ErrorBody).error.param).toBe('effectiveFrom');
    for (const kind of ['prices', 'rateLimits', 'providers', 'models']) expect(await history(kind)).toEqual([]);
  });

  it('answers 404 for a model or provider that does not exist', async () => {
    const model404 = await admin('/admin/models/nope', { method: 'PATCH', json: { enabled: false } });
    expect(model404.status).toBe(404);
    const provider404 = await admin('/admin/providers/nope', { method: 'PATCH', json: { enabled: false } });
    expect(((await provider404.json()) as ErrorBody).error.code).toBe('provider_not_found');
  });

  it('lists the history of a kind, newest first, and checks the query', async () => {
    await admin('/admin/providers/fake', { method: 'PATCH', json: { priority: 1 } });
    await admin('/admin/providers/fake', { method: 'PATCH', json: { priority: 2 } });
    const records = (await history('providers')) as { version: number; value: unknown; actor: string }[];
    expect(records.map((r) => r.value)).toEqual([
      { fake: { enabled: true, priority: 2 } },
      { fake: { enabled: true, priority: 1 } },
    ]);
    expect(records[0]).toMatchObject({ actor: 'admin-api', kind: 'providers' });
    expect(
      ((await (await admin('/admin/settings/history?kind=providers&limit=1')).json()) as { data: [] }).data,
    ).toHaveLength(1);
    for (const [query, param] of [
      ['kind=bogus', 'kind'],
      ['', 'kind'],
      ['kind=models&limit=0', 'limit'],
      ['kind=models&limit=x', 'limit'],
    ]) {
      const response = await admin(`/admin/settings/history?${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.param).toBe(param);
    }
  });
});
