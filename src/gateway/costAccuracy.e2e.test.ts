/**
 * Exact charges through the real gateway server, with the official `openai` client, on both ledger adapters: an
 * upstream's recorded fixtures (providers/openai/fixtures, replayed over loopback HTTP) with reasoning tokens, with
 * cached tokens, an early disconnect, and a failure the provider bills for. Every expected amount is worked out here
 * by hand from the sheet below, not by the gateway's pricing code.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../core/epoch.ts';
import type { PriceBook, TextPrice } from '../core/pricing.ts';
import { openTestPostgresLedger, postgresSkipReason } from '../ledger/testing/harness.ts';
import type { Balance, Ledger } from '../ledger/types.ts';
import { type ReplayServer, startReplayServer } from './providers/openai/fixtures/replayServer.ts';
import { startTestGateway, type TestGateway } from './testing/fixture.ts';

const model = 'upstream-reasoner';

/**
 * Per 1M tokens: $1.25 input, $10 output, $12 reasoning, $0.123456789 cache read. Per token, in nano-USD: 1,250
 * input, 10,000 output, 12,000 reasoning and 123.456789 cache read (its lines round up).
 */
const price: TextPrice = {
  kind: 'text',
  inputPer1M: 1_250_000_000n,
  outputPer1M: 10_000_000_000n,
  reasoningPer1M: 12_000_000_000n,
  cacheReadPer1M: 123_456_789n,
};
const priceBook: PriceBook = { versions: [{ effectiveFromMs: 0, models: { [model]: price } }] };

type Line = [sku: string, units: number, listNano: bigint, chargedNano: bigint];

const adapters: { name: string; skip: string | null; ledger?: (directory: string, clock: Clock) => Promise<Ledger> }[] =
  [
    { name: 'a SQLite file', skip: null },
    {
      name: 'PostgreSQL',
      skip: await postgresSkipReason(),
      ledger: (_directory, clock) => openTestPostgresLedger({ clock }),
    },
  ];

function total(balance: Balance): bigint {
  return balance.diem.availableNano + balance.credits.availableNano + balance.usd.availableNano;
}

function reserved(balance: Balance): bigint {
  return balance.diem.reservedNano + balance.credits.reservedNano + balance.usd.reservedNano;
}

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`exact charges from recorded fixtures, on ${adapter.name}`, () => {
    let replay: ReplayServer;
    let gw: TestGateway;
    let client: OpenAI;

    beforeAll(async () => {
      replay = await startReplayServer();
      gw = await startTestGateway({
        providers: async () => [
          {
            kind: 'openai',
            id: 'fixture',
            upstreams: [{ name: 'fixture', baseUrl: replay.baseUrl }],
            models: [{ id: model, capabilities: ['chat'] }],
            retries: 0,
          },
        ],
        priceBook,
        ...(adapter.ledger ? { ledger: adapter.ledger } : {}),
      });
      client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
    });
    afterAll(async () => {
      await gw?.close();
      await replay?.close();
    });

    /** A request's usage lines as the ledger keeps them, in SKU order. */
    async function linesOf(requestId: string): Promise<Line[]> {
      const { items } = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 500 });
      return items
        .filter((item) => item.requestId === requestId)
        .map((item): Line => [item.sku, item.units, item.listAmountNano, item.amountNano])
        .sort((a, b) => a[0].localeCompare(b[0]));
    }

    /** The LOSS legs journaled for a request's reservation. */
    async function lossOf(requestId: string): Promise<bigint> {
      const { items } = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 500 });
      const reservationId = items.find((item) => item.requestId === requestId)?.reservationId;
      const journal = await gw.ledger.journal();
      const legs = journal.filter((e) => e.reservationId === reservationId && e.kind === 'LOSS');
      const debits = legs.filter((e) => e.side === 'DEBIT' && e.ledgerAccount === 'operator:loss');
      const credits = legs.filter((e) => e.side === 'CREDIT' && e.ledgerAccount === 'operator:revenue');
      const sum = (entries: typeof legs) => entries.reduce((acc, e) => acc + e.amountNano, 0n);
      expect(sum(debits)).toBe(sum(credits));
      return sum(debits);
    }

    async function chat(fixture: string, status?: number) {
      replay.setBehaviour('/chat/completions', { kind: 'replay', fixture, ...(status ? { status } : {}) });
      const before = await gw.ledger.balance(gw.accountId);
      const { data, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Sum 1 to 100.' }], max_tokens: 2000 })
        .withResponse();
      const after = await gw.ledger.balance(gw.accountId);
      const requestId = response.headers.get('x-request-id')!;
      const charged = BigInt((data as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd);
      return { data, requestId, charged, spent: total(before) - total(after), after };
    }

    async function streamChat(fixture: string) {
      replay.setBehaviour('/chat/completions', { kind: 'replay', fixture });
      const before = await gw.ledger.balance(gw.accountId);
      const { data: stream, response } = await client.chat.completions
        .create({
          model,
          messages: [{ role: 'user', content: 'When must I give notice?' }],
          max_tokens: 2000,
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const after = await gw.ledger.balance(gw.accountId);
      const last = chunks.at(-1)!;
      const charged = BigInt((last as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd);
      return { last, requestId: response.headers.get('x-request-id')!, charged, spent: total(before) - total(after) };
    }

    it('charges a recorded fixture with reasoning tokens: reasoning once, at its own rate', async () => {
      const { data, requestId, charged, spent, after } = await chat('chat-reasoning.json');
      // The client sees the upstream's own usage: completion_tokens (1186) includes the 1024 reasoning tokens.
      expect(data.usage).toMatchObject({
        prompt_tokens: 75,
        completion_tokens: 1186,
        completion_tokens_details: { reasoning_tokens: 1024 },
      });
      // 75 × 1,250 = 93,750; (1186 − 1024) × 10,000 = 1,620,000; 1024 × 12,000 = 12,288,000.
      const expected = 93_750n + 1_620_000n + 12_288_000n;
      expect(charged).toBe(14_001_750n);
      expect(charged).toBe(expected);
      expect(spent).toBe(expected);
      expect(reserved(after)).toBe(0n);
      expect(await linesOf(requestId)).toEqual([
        ['text.input', 75, 93_750n, 93_750n],
        ['text.output', 162, 1_620_000n, 1_620_000n],
        ['text.reasoning', 1024, 12_288_000n, 12_288_000n],
      ]);
      expect(await lossOf(requestId)).toBe(0n);
    });

    it('charges a recorded fixture with cached tokens: the cached part once, at the cache rate', async () => {
      const { data, requestId, charged, spent } = await chat('chat-cached.json');
      expect(data.usage).toMatchObject({ prompt_tokens: 2006, prompt_tokens_details: { cached_tokens: 1920 } });
      // (2006 − 1920) × 1,250 = 107,500; 300 × 10,000 = 3,000,000; 1920 × 123.456789 = 237,037.03488 → 237,038.
      expect(charged).toBe(107_500n + 3_000_000n + 237_038n);
      expect(spent).toBe(3_344_538n);
      expect(await linesOf(requestId)).toEqual([
        ['text.cache_read', 1920, 237_038n, 237_038n],
        ['text.input', 86, 107_500n, 107_500n],
        ['text.output', 300, 3_000_000n, 3_000_000n],
      ]);
    });

    it('charges a recorded stream fixture with cached and reasoning tokens, cost in the final chunk', async () => {
      const { last, requestId, charged, spent } = await streamChat('chat-reasoning-cached.stream.sse');
      expect(last.usage).toMatchObject({
        prompt_tokens: 1200,
        completion_tokens: 640,
        prompt_tokens_details: { cached_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 512 },
      });
      // 176 × 1,250 = 220,000; 128 × 10,000 = 1,280,000; 512 × 12,000 = 6,144,000;
      // 1024 × 123.456789 = 126,419.751936 → 126,420.
      expect(charged).toBe(220_000n + 1_280_000n + 6_144_000n + 126_420n);
      expect(spent).toBe(7_770_420n);
      expect(await linesOf(requestId)).toEqual([
        ['text.cache_read', 1024, 126_420n, 126_420n],
        ['text.input', 176, 220_000n, 220_000n],
        ['text.output', 128, 1_280_000n, 1_280_000n],
        ['text.reasoning', 512, 6_144_000n, 6_144_000n],
      ]);
    });

    it('charges a recorded DeepSeek stream fixture by its prompt_cache_hit_tokens on the finish chunk', async () => {
      const { last, requestId, charged, spent } = await streamChat('chat-cached-deepseek.stream.sse');
      // DeepSeek's own fields, as it sent them, and OpenAI's filled in.
      expect(last.usage).toMatchObject({
        prompt_tokens: 640,
        completion_tokens: 20,
        total_tokens: 660,
        prompt_cache_hit_tokens: 512,
        prompt_cache_miss_tokens: 128,
        prompt_tokens_details: { cached_tokens: 512 },
      });
      // 128 × 1,250 = 160,000; 20 × 10,000 = 200,000; 512 × 123.456789 = 63,209.875968 → 63,210.
      expect(charged).toBe(423_210n);
      expect(spent).toBe(423_210n);
      expect((await linesOf(requestId)).map(([sku, units]) => [sku, units])).toEqual([
        ['text.cache_read', 512],
        ['text.input', 128],
        ['text.output', 20],
      ]);
    });

    it('charges nothing for a stream the client leaves before its first token; the prompt is operator loss', async () => {
      // The recorded stream's first event (the role, no content), then the upstream stalls.
      replay.setBehaviour('/chat/completions', { kind: 'stallAfter', fixture: 'chat.stream.sse', events: 1 });
      const before = await gw.ledger.balance(gw.accountId);
      const { data: stream, response } = await client.chat.completions
        .create({
          model,
          messages: [{ role: 'user', content: 'Tell me a long story' }],
          max_tokens: 2000,
          stream: true,
        })
        .withResponse();
      const requestId = response.headers.get('x-request-id')!;
      for await (const chunk of stream) {
        expect(chunk.choices[0]?.delta.content).toBe('');
        stream.controller.abort();
      }
      await replay.clientAborted;
      await vi.waitFor(async () => expect((await linesOf(requestId)).length).toBeGreaterThan(0), { timeout: 5000 });
      const after = await gw.ledger.balance(gw.accountId);
      expect(total(after)).toBe(total(before));
      expect(reserved(after)).toBe(0n);
      // The prompt the upstream read, as the gateway estimates it (no usage came): 4 per message + ⌈20 bytes / 4⌉ = 9
      // tokens; 9 × 1,250 = 11,250 at list price, charged 0.
      expect(await linesOf(requestId)).toEqual([
        ['text.input', 9, 11_250n, 0n],
        ['text.output', 0, 0n, 0n],
      ]);
      expect(await lossOf(requestId)).toBe(11_250n);
    });

    it('charges nothing and records no loss for a whole answer the client leaves before it comes', async () => {
      replay.setBehaviour('/chat/completions', { kind: 'hang' });
      const before = await gw.ledger.balance(gw.accountId);
      const sent = replay.requests.length;
      const abort = new AbortController();
      const request = client.chat.completions.create(
        { model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 20 },
        { signal: abort.signal },
      );
      await vi.waitFor(() => expect(replay.requests.length).toBe(sent + 1), { timeout: 5000 });
      abort.abort();
      await expect(request).rejects.toThrow();
      await vi.waitFor(async () => expect(reserved(await gw.ledger.balance(gw.accountId))).toBe(0n), {
        timeout: 5000,
      });
      expect(total(await gw.ledger.balance(gw.accountId))).toBe(total(before));
    });

    it('records a 5xx that still reports usage (a recorded fixture) as operator loss, charging nothing', async () => {
      replay.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat-500-with-usage.json', status: 500 });
      const before = await gw.ledger.balance(gw.accountId);
      const failed = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 20 })
        .catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(OpenAI.APIError);
      expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      const requestId = (failed as InstanceType<typeof OpenAI.APIError>).headers?.get('x-request-id') ?? '';
      const after = await gw.ledger.balance(gw.accountId);
      expect(total(after)).toBe(total(before));
      expect(reserved(after)).toBe(0n);
      // 812 × 1,250 = 1,015,000 at list price, charged 0.
      expect(await linesOf(requestId)).toEqual([
        ['text.input', 812, 1_015_000n, 0n],
        ['text.output', 0, 0n, 0n],
      ]);
      expect(await lossOf(requestId)).toBe(1_015_000n);
    });

    it('records a recorded stream fixture that fails after reporting its usage, before any token, as loss', async () => {
      replay.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat-error-after-usage.stream.sse' });
      const before = await gw.ledger.balance(gw.accountId);
      const { data: stream, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 20, stream: true })
        .withResponse();
      const requestId = response.headers.get('x-request-id')!;
      const read = async () => {
        for await (const _chunk of stream);
      };
      await expect(read()).rejects.toThrow(/invalid content/);
      // The client stops at the error event; the void lands just after it, before the stream's [DONE].
      await vi.waitFor(async () => expect((await linesOf(requestId)).length).toBeGreaterThan(0), { timeout: 5000 });
      const after = await gw.ledger.balance(gw.accountId);
      expect(total(after)).toBe(total(before));
      expect(reserved(after)).toBe(0n);
      // The upstream's own usage: 96 × 1,250 = 120,000 and 3 × 10,000 = 30,000 at list price, charged 0.
      expect(await linesOf(requestId)).toEqual([
        ['text.input', 96, 120_000n, 0n],
        ['text.output', 3, 30_000n, 0n],
      ]);
      expect(await lossOf(requestId)).toBe(150_000n);
    });

    it("charges a recorded stream fixture that fails after its usage by the upstream's count, no loss", async () => {
      replay.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat-error-after-finish.stream.sse' });
      const before = await gw.ledger.balance(gw.accountId);
      const { data: stream, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Capital of France?' }], max_tokens: 200, stream: true })
        .withResponse();
      const requestId = response.headers.get('x-request-id')!;
      let text = '';
      const read = async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      };
      await expect(read()).rejects.toThrow(/connection reset/);
      expect(text).toBe('Paris is the capital of France.');
      await vi.waitFor(async () => expect((await linesOf(requestId)).length).toBeGreaterThan(0), { timeout: 5000 });
      // The upstream counted 420 prompt tokens (384 cached) and 108 completion tokens (100 reasoning):
      // 36 × 1,250 = 45,000; 8 × 10,000 = 80,000; 100 × 12,000 = 1,200,000; 384 × 123.456789 = 47,407.4… → 47,408.
      expect(await linesOf(requestId)).toEqual([
        ['text.cache_read', 384, 47_408n, 47_408n],
        ['text.input', 36, 45_000n, 45_000n],
        ['text.output', 8, 80_000n, 80_000n],
        ['text.reasoning', 100, 1_200_000n, 1_200_000n],
      ]);
      const after = await gw.ledger.balance(gw.accountId);
      expect(total(before) - total(after)).toBe(1_372_408n);
      expect(reserved(after)).toBe(0n);
      expect(await lossOf(requestId)).toBe(0n);
    });

    it('shows the operator loss in usage analytics and history, and the reasoning rate in /v1/models', async () => {
      const analytics = (await fetch(`${gw.baseURL.replace(/\/v1$/, '')}/api/v1/billing/usage-analytics`, {
        headers: { authorization: `Bearer ${gw.apiKey}` },
      }).then((r) => r.json())) as { byModel: { group: string; amount: string; operatorLoss: string }[] };
      const row = analytics.byModel.find((r) => r.group === model)!;
      // 11,250 (the left stream's prompt) + 1,015,000 (the billed 500) + 150,000 (the stream that failed).
      expect(row.operatorLoss).toBe('0.00117625');
      // 14,001,750 + 3,344,538 + 7,770,420 + 423,210 + 1,372,408.
      expect(row.amount).toBe('0.026912326');
      const models = await client.models.list();
      const spec = (models.data.find((m) => m.id === model) as unknown as { model_spec: { pricing: unknown } })
        .model_spec;
      expect(spec.pricing).toMatchObject({ reasoning: { usd: 12 }, cache_input: { usd: 0.123456789 } });
    });
  });
}
