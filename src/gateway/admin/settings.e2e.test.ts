/**
 * Operator settings through a real port and a restart: the gateway and its settings on one SQLite ledger file are
 * closed and started again, and what the operator set is still in force (a chat request is charged at the new price).
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { openPostgresLedger } from '../../ledger/postgres/postgresLedger.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import { allUsage } from '../../ledger/testing/allUsage.ts';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from '../../ledger/testing/harness.ts';
import type { Ledger } from '../../ledger/types.ts';
import { gatewayLogger } from '../app.ts';
import { rateLimitsDefault } from '../limits.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { type OperatorSettings, openOperatorSettingsFor } from '../settings/operatorSettings.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';
import { operatorToken } from '../testing/fixture.ts';

interface Running {
  ledger: Ledger;
  settings: OperatorSettings;
  server: GatewayServer;
  close(): Promise<void>;
}

type Where = { sqlitePath: string } | { databaseUrl: string; databaseSchema: string };

/** The clock every part reads: the SQLite test moves it past the epoch boundary its price sheet is announced for. */
let nowMs = Date.now();
const clock = () => nowMs;

async function start(where: Where): Promise<Running> {
  const ledger =
    'sqlitePath' in where
      ? openSqliteLedger({ path: where.sqlitePath, clock })
      : await openPostgresLedger({
          url: where.databaseUrl,
          schema: where.databaseSchema,
          createSchema: true,
          clock,
          poolMax: 2,
        });
  const settings = await openOperatorSettingsFor({
    sqlitePath: '',
    ...where,
    defaults: { prices: fakePriceBook, rateLimits: rateLimitsDefault },
    clock,
    pollIntervalMs: 0,
  });
  const server = await startGatewayServer({
    ledger,
    registry: fakeRegistry(),
    prices: fakePriceBook,
    settings,
    clock,
    logger: gatewayLogger('silent'),
    operatorToken,
  });
  return {
    ledger,
    settings,
    server,
    async close() {
      await server.close();
      await settings.close();
      await ledger.close();
    },
  };
}

describe('operator settings across a gateway restart (SQLite file, real port)', () => {
  let directory: string;
  let sqlitePath: string;
  let running: Running | null = null;
  const nextEpochMs = (epochAt(nowMs) + 1) * 86_400_000;
  const sheet = {
    effectiveFrom: new Date(nextEpochMs).toISOString(),
    models: { [fakeModels.text]: { kind: 'text', inputPer1M: '3', outputPer1M: '12.000000001' } },
  };
  const override = { reason: 'tripled, announced for the next epoch' };
  const limits = {
    key: { requestsPerMinute: 40, tokensPerMinute: 40_000 },
    account: { requestsPerMinute: 400, tokensPerMinute: 400_000 },
  };
  const admin = async (path: string, init: { method?: string; json?: unknown } = {}) => {
    const response = await fetch(`${running!.server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-settings-e2e-'));
    sqlitePath = join(directory, 'ledger.sqlite');
  });
  afterAll(async () => {
    await running?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('keeps a price sheet, rate limits and model and provider settings, and charges at the stored price', async () => {
    running = await start({ sqlitePath });
    expect((await admin('/admin/prices', { method: 'POST', json: { ...sheet, override } })).status).toBe(201);
    expect((await admin('/admin/rate-limits', { method: 'PUT', json: limits })).status).toBe(200);
    const disabled = await admin(`/admin/models/${fakeModels.embed}`, { method: 'PATCH', json: { enabled: false } });
    expect(disabled.status).toBe(200);
    expect((await admin('/admin/providers/fake', { method: 'PATCH', json: { priority: 7 } })).status).toBe(200);
    await running.close();
    running = null;

    nowMs = nextEpochMs + 1_000;
    running = await start({ sqlitePath });
    const prices = (await admin('/admin/prices')).body as { versions: unknown[] };
    expect(prices.versions.at(-1)).toEqual(sheet);
    expect((await admin('/admin/rate-limits')).body).toEqual({ data: limits });
    const providers = (await admin('/admin/providers')).body as { data: unknown[] };
    expect(providers.data[0]).toMatchObject({ id: 'fake', priority: 7, enabled: true });
    const history = (await admin('/admin/settings/history?kind=prices')).body as { data: { value: unknown }[] };
    expect(history.data.map((record) => record.value)).toEqual([sheet]);

    const { ledger } = running;
    const account = await ledger.createAccount();
    await ledger.setDiemAllowance(account.id, epochAt(nowMs), 1_000_000_000n);
    const key = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'e2e' });
    const client = new OpenAI({ apiKey: key.secret, baseURL: `${running.server.url}/v1`, maxRetries: 0 });

    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).not.toContain(fakeModels.embed);
    await expect(client.embeddings.create({ model: fakeModels.embed, input: 'x' })).rejects.toMatchObject({
      status: 404,
    });

    const { data: completion, response } = await client.chat.completions
      .create({ model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 })
      .withResponse();
    expect(completion.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 5 });
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('40');
    // 7 × $3/1M + 5 × $12.000000001/1M, each line rounded up: 21,000 + 60,000.000005 → 81,001 nano-USD.
    const usage = await allUsage(ledger, account.id);
    expect(usage.map((line) => line.amountNano).reduce((a, b) => a + b, 0n)).toBe(21_000n + 60_001n);
  });
});

describe.skipIf((await postgresSkipReason()) !== null)('operator settings shared by two gateways on PostgreSQL', () => {
  it('shows a change made through one gateway at the other once it refreshes, and after both restart', async () => {
    const where = { databaseUrl: testDatabaseUrl, databaseSchema: `perdiem_test_${randomBytes(6).toString('hex')}` };
    const gateways: Running[] = [];
    try {
      gateways.push(await start(where), await start(where));
      const [one, two] = gateways as [Running, Running];
      const call = async (gateway: Running, path: string, method = 'GET', json?: unknown) => {
        const response = await fetch(`${gateway.server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
          ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        });
        expect(response.status).toBe(200);
        return (await response.json()) as { data: unknown };
      };
      await call(one, `/admin/models/${fakeModels.embed}`, 'PATCH', { enabled: false, contextLength: 100 });
      await call(one, '/admin/providers/fake', 'PATCH', { priority: 4 });
      await two.settings.refresh();
      const models = (await call(two, '/admin/models')).data as { id: string; enabled: boolean }[];
      expect(models.find((model) => model.id === fakeModels.embed)).toMatchObject({
        enabled: false,
        contextLength: 100,
      });
      expect(((await call(two, '/admin/providers')).data as unknown[])[0]).toMatchObject({ priority: 4 });

      await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
      const again = await start(where);
      gateways.push(again);
      expect(again.settings.model(fakeModels.embed)).toEqual({ enabled: false, contextLength: 100 });
      expect(again.settings.provider('fake')).toEqual({ enabled: true, priority: 4 });
    } finally {
      await Promise.all(gateways.map((gateway) => gateway.close()));
      await dropSchema(where.databaseSchema);
    }
  });
});
