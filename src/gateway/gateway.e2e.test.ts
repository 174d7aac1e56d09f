import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, type TextPrice } from '../core/pricing.ts';
import type { Balance } from '../ledger/types.ts';
import {
  demoModel,
  demoPriceBook,
  llamaConfig,
  startTestGateway,
  type TestGateway,
  writeTestModel,
} from './testing/fixture.ts';

const price = demoPriceBook.versions[0]!.models[demoModel] as TextPrice;

function expectedNano(usage: { prompt_tokens: number; completion_tokens: number }): bigint {
  return costOf(price, { kind: 'text', inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens })
    .totalNano;
}

function totalAvailable(balance: Balance): bigint {
  return balance.diem.availableNano + balance.credits.availableNano + balance.usd.availableNano;
}

describe('gateway end to end through the openai client, llama provider', () => {
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway({ providers: async (dir) => [llamaConfig(await writeTestModel(dir))] });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('charges a chat exactly its priced usage, and the cost object and headers agree with the ledger', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const { data, response } = await client.chat.completions
      .create({ model: demoModel, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 6, temperature: 0 })
      .withResponse();
    const after = await gw.ledger.balance(gw.accountId);
    const usage = data.usage!;
    expect(usage.completion_tokens).toBe(6);
    const expected = expectedNano(usage);
    expect(totalAvailable(before) - totalAvailable(after)).toBe(expected);
    const cost = (data as unknown as { cost: { nanoUsd: string; usd: number; diem: number; source: string } }).cost;
    expect(BigInt(cost.nanoUsd)).toBe(expected);
    expect(cost.source).toBe('DIEM');
    expect(cost.usd).toBe(Number(expected) / 1e9);
    expect(response.headers.get('x-balance-diem')).toBe(String(Number(before.diem.availableNano) / 1e9));
    expect(response.headers.get('x-balance-usd')).toBe('0');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(response.headers.get('x-ratelimit-remaining-requests')).not.toBeNull();
    expect(after.diem.reservedNano).toBe(0n);
  });

  it('streams a chat with usage and cost in the final chunk even without include_usage', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const stream = await client.chat.completions.create({
      model: demoModel,
      messages: [{ role: 'user', content: 'Stream to me' }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    let text = '';
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      last = chunk;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(last?.usage?.completion_tokens).toBe(8);
    const expected = expectedNano(last!.usage!);
    expect(BigInt((last as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd)).toBe(expected);
    const after = await gw.ledger.balance(gw.accountId);
    expect(totalAvailable(before) - totalAvailable(after)).toBe(expected);
    expect(after.diem.reservedNano).toBe(0n);
  });

  it('stops in-process generation when the client aborts a stream, and charges only what was generated', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const controller = new AbortController();
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: demoModel,
        messages: [{ role: 'user', content: 'Go on' }],
        max_tokens: 400,
        stream: true,
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let events = 0;
    while (events < 3) {
      const { value } = await reader.read();
      events += new TextDecoder().decode(value).split('data: ').length - 1;
    }
    controller.abort();
    const deadline = Date.now() + 10_000;
    while ((await gw.ledger.balance(gw.accountId)).diem.reservedNano !== 0n && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const after = await gw.ledger.balance(gw.accountId);
    expect(after.diem.reservedNano).toBe(0n);
    const page = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 2 });
    const output = page.items.find((item) => item.sku === 'text.output')!;
    expect(output.units).toBeGreaterThanOrEqual(2);
    expect(output.units).toBeLessThan(400);
    expect(totalAvailable(before) - totalAvailable(after)).toBe(page.items.reduce((sum, i) => sum + i.amountNano, 0n));
  });

  it('answers completions and charges them', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const completion = await client.completions.create({
      model: demoModel,
      prompt: 'Once upon a time',
      max_tokens: 5,
      temperature: 0,
    });
    expect(completion.choices[0]?.text.length).toBeGreaterThan(0);
    const after = await gw.ledger.balance(gw.accountId);
    expect(totalAvailable(before) - totalAvailable(after)).toBe(expectedNano(completion.usage!));
  });

  it('streams completions', async () => {
    const stream = await client.completions.create({ model: demoModel, prompt: 'Hi', max_tokens: 4, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(4);
  });

  it('embeds (base64, the client default) and charges input tokens at the input rate', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const result = await client.embeddings.create({ model: demoModel, input: ['per diem', 'daily capacity'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]!.embedding.length).toBe(64);
    expect(result.data[0]!.embedding.every(Number.isFinite)).toBe(true);
    const after = await gw.ledger.balance(gw.accountId);
    const expected = costOf(
      { kind: 'embedding', inputPer1M: price.inputPer1M },
      { kind: 'embedding', inputTokens: result.usage.prompt_tokens },
    ).totalNano;
    expect(totalAvailable(before) - totalAvailable(after)).toBe(expected);
  });

  it('lists models with model_spec.pricing', async () => {
    const models = await client.models.list();
    const model = models.data.find((m) => m.id === demoModel) as unknown as {
      model_spec: { pricing: { input: { usd: number; diem: number }; output: { usd: number } } };
    };
    expect(model.model_spec.pricing.input).toEqual({ usd: 2, diem: 2 });
    expect(model.model_spec.pricing.output.usd).toBe(8);
  });

  it('bounds generation by the budget when max_tokens is absent, and answers 402 when one token is unaffordable', async () => {
    // Room for the prompt bound plus about 5 output tokens.
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const promptBound = 16 + (2 + 4 + 16);
    const budget = BigInt(promptBound) * 2_000n + 5n * 8_000n;
    const poor = await gw.newAccount({ creditsNano: budget });
    const poorClient = new OpenAI({ baseURL: gw.baseURL, apiKey: poor.apiKey, maxRetries: 0 });
    const result = await poorClient.chat.completions.create({ model: demoModel, messages, temperature: 0 });
    expect(result.usage!.completion_tokens).toBeLessThanOrEqual(5);
    const balance = await gw.ledger.balance(poor.accountId);
    expect(balance.credits.availableNano).toBe(budget - expectedNano(result.usage!));

    const broke = await gw.newAccount({ creditsNano: BigInt(promptBound) * 2_000n });
    const brokeClient = new OpenAI({ baseURL: gw.baseURL, apiKey: broke.apiKey, maxRetries: 0 });
    const error = await brokeClient.chat.completions.create({ model: demoModel, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(402);
    expect((await gw.ledger.balance(broke.accountId)).credits.reservedNano).toBe(0n);
  });

  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies read in assertions
  type Json = any;

  it('serves the billing routes: balance, usage history (JSON and CSV) and analytics', async () => {
    const headers = { authorization: `Bearer ${gw.apiKey}` };
    const balance: Json = await (await fetch(`${gw.server.url}/api/v1/billing/balance`, { headers })).json();
    expect(balance.canConsume).toBe(true);
    expect(balance.consumptionCurrency).toBe('DIEM');
    expect(typeof balance.nextEpochBegins).toBe('string');
    const history: Json = await (
      await fetch(`${gw.server.url}/api/v1/billing/usage-history?limit=2`, { headers })
    ).json();
    expect(history.data).toHaveLength(2);
    expect(history.nextCursor).not.toBeNull();
    const csv = await fetch(`${gw.server.url}/api/v1/billing/usage-history`, {
      headers: { ...headers, accept: 'text/csv' },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\n')[0]).toContain('requestId,timestamp');
    const analytics: Json = await (await fetch(`${gw.server.url}/api/v1/billing/usage-analytics`, { headers })).json();
    expect(analytics.byModel[0].group).toBe(demoModel);
  });
});
