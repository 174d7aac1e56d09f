/**
 * Key limits mean what they say, through a real port with the official openai client and a SQLite ledger file: 300
 * concurrent requests against a DIEM limit and against perdiem's TOTAL limit never spend past the limit; Venice's
 * key shape (`consumptionLimit` with `limitPeriod`) is accepted for each period; the remaining amount shows in the
 * response header and in `rate_limits`. The model is the fake registry's instant model (no inference runs here: the
 * limits are what is under test).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../core/epoch.ts';
import { parseUsd } from '../core/money.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../ledger/types.ts';
import { gatewayLogger } from './app.ts';
import { type GatewayServer, startGatewayServer } from './server.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from './testing/fakeRegistry.ts';

const racers = 300;
const chat = { model: fakeModels.text, messages: [{ role: 'user' as const, content: 'Hi' }], max_tokens: 5 };

describe('key limits under 300 concurrent requests (fake instant model, real HTTP and SQLite)', () => {
  let directory: string;
  let ledger: Ledger;
  let server: GatewayServer;
  let accountId: string;
  let adminKey: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-key-limits-'));
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
    server = await startGatewayServer({
      ledger,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      logger: gatewayLogger('silent'),
      rateLimits: { key: { requestsPerMinute: 10_000, tokensPerMinute: 100_000_000 } },
    });
    const account = await ledger.createAccount();
    accountId = account.id;
    adminKey = (await ledger.createKey({ accountId, kind: 'ADMIN', name: 'admin' })).secret;
  });
  afterAll(async () => {
    await server?.close();
    await ledger?.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function createKey(body: object): Promise<{ id: string; apiKey: string; view: Record<string, unknown> }> {
    const response = await fetch(`${server.url}/api/v1/api_keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiKeyType: 'INFERENCE', description: 'limited', ...body }),
    });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: { id: string; apiKey: string } & Record<string, unknown> };
    return { id: data.id, apiKey: data.apiKey, view: data };
  }

  /** Sends `racers` chats at once; returns how many were answered 200 and the 402 messages. */
  async function race(apiKey: string): Promise<{ ok: number; refusals: string[] }> {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: racers }, () => client.chat.completions.create(chat)),
    );
    const refusals: string[] = [];
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        const error = outcome.reason as InstanceType<typeof OpenAI.APIError>;
        expect(error.status).toBe(402);
        expect(error.code).toBe('key_limit_exceeded');
        refusals.push(error.message);
      }
    }
    return { ok: outcomes.filter((outcome) => outcome.status === 'fulfilled').length, refusals };
  }

  async function keySpent(keyId: string): Promise<bigint> {
    let total = 0n;
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<Ledger['usageHistory']>> = await ledger.usageHistory({
        accountId,
        keyId,
        limit: 500,
        cursor,
      });
      for (const row of page.items) total += row.amountNano;
      cursor = page.nextCursor;
    } while (cursor);
    return total;
  }

  it('holds a DIEM limit on an account funded by the DIEM allowance', async () => {
    await ledger.setDiemAllowance(accountId, epochAt(Date.now()), parseUsd('10'));
    const limit = parseUsd('0.001');
    const key = await createKey({ consumptionLimit: { diem: '0.001' }, limitPeriod: 'EPOCH' });
    const { ok, refusals } = await race(key.apiKey);
    const spent = await keySpent(key.id);
    expect(ok).toBeGreaterThan(0);
    expect(refusals.length).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(limit);
    expect(refusals[0]).toMatch(/DIEM limit/);
    expect(refusals[0]).toMatch(/DIEM allowance/);
    const usage = (await ledger.keyLimitUsage(key.id))[0]!;
    expect(usage.spentNano).toBe(spent);
    expect(usage.reservedNano).toBe(0n);
    expect(usage.remainingNano).toBe(limit - spent);
  });

  it('holds a TOTAL limit across every source (DIEM first, then credits)', async () => {
    const fresh = await ledger.createAccount();
    await ledger.setDiemAllowance(fresh.id, epochAt(Date.now()), parseUsd('0.0004'));
    await ledger.addFunds({ accountId: fresh.id, source: 'CREDITS', amountNano: parseUsd('5'), reference: 'total-1' });
    const created = await ledger.createKey({
      accountId: fresh.id,
      kind: 'INFERENCE',
      name: 'total',
      limits: [{ currency: 'TOTAL', period: 'MONTH', amountNano: parseUsd('0.001') }],
    });
    const { ok, refusals } = await race(created.secret);
    expect(ok).toBeGreaterThan(0);
    expect(refusals[0]).toMatch(/TOTAL limit/);
    const usage = (await ledger.keyLimitUsage(created.key.id))[0]!;
    expect(usage.spentNano).toBeLessThanOrEqual(parseUsd('0.001'));
    const balance = await ledger.balance(fresh.id);
    const spentAll = balance.diem.spentNano + (parseUsd('5') - balance.credits.availableNano);
    expect(spentAll).toBe(usage.spentNano);
    // Both sources paid: the limit spans them.
    expect(balance.diem.spentNano).toBeGreaterThan(0n);
    expect(balance.credits.availableNano).toBeLessThan(parseUsd('5'));
  });

  it("accepts Venice's limitPeriod for each period and shows what remains", async () => {
    for (const period of ['EPOCH', 'MONTH', 'LIFETIME'] as const) {
      const key = await createKey({ consumptionLimit: { usd: 1, diem: '0.5' }, limitPeriod: period });
      expect(key.view.limitPeriod).toBe(period);
      expect(key.view.consumptionLimits).toEqual({ usd: 1, diem: 0.5 });
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key.apiKey, maxRetries: 0 });
      const { data, response } = await client.chat.completions.create(chat).withResponse();
      const charged = BigInt((data as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd);
      expect(response.headers.get('x-perdiem-key-limit-remaining')).toMatch(
        new RegExp(`DIEM:${period}=0\\.\\d+, USD:${period}=1$|USD:${period}=1, DIEM:${period}=0\\.\\d+`),
      );
      const limits = (await (
        await fetch(`${server.url}/api/v1/api_keys/rate_limits`, { headers: { authorization: `Bearer ${key.apiKey}` } })
      ).json()) as { data: { limits: { currency: string; period: string; remaining: string; covers: string[] }[] } };
      const diem = limits.data.limits.find((limit) => limit.currency === 'DIEM')!;
      expect(diem.period).toBe(period);
      expect(diem.covers).toEqual(['DIEM']);
      expect(parseUsd(diem.remaining)).toBe(parseUsd('0.5') - charged);
      const usd = limits.data.limits.find((limit) => limit.currency === 'USD')!;
      expect(usd.covers).toEqual(['CREDITS', 'USD']);
      expect(usd.remaining).toBe('1');
    }
  });
});
