import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, type TextPrice } from '../core/pricing.ts';
import type { Balance } from '../ledger/types.ts';
import { demoPriceBook, startTestGateway, type TestGateway, writeTestModel } from './testing/fixture.ts';
import { type LlamaServerProcess, startLlamaServerProcess } from './testing/llamaServerProcess.ts';

const model = 'upstream-demo';
const price = demoPriceBook.versions[0]!.models[model] as TextPrice;

function spent(before: Balance, after: Balance): bigint {
  const total = (b: Balance) => b.diem.availableNano + b.credits.availableNano + b.usd.availableNano;
  return total(before) - total(after);
}

function priced(usage: { prompt_tokens: number; completion_tokens: number }): bigint {
  return costOf(price, { kind: 'text', inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens })
    .totalNano;
}

describe('gateway → openai provider → scripts/llama-server.ts (a real process), first upstream down', () => {
  let upstream: LlamaServerProcess;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway({
      providers: async (dir) => {
        upstream = await startLlamaServerProcess(await writeTestModel(dir), model);
        return [
          {
            kind: 'openai',
            id: 'loopback',
            // Port 1 refuses connections: every request fails over to the live server.
            upstreams: [
              { name: 'down', baseUrl: 'http://127.0.0.1:1/v1' },
              { name: 'llama-server', baseUrl: `${upstream.url}/v1` },
            ],
            models: [{ id: model, contextLength: 512, capabilities: ['chat', 'completion', 'embedding'] }],
            retries: 0,
          },
        ];
      },
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
  });

  it('fails over and charges a chat exactly its upstream usage', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, temperature: 0 })
      .withResponse();
    expect(data.usage?.completion_tokens).toBe(6);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spent(before, after)).toBe(priced(data.usage!));
    expect(BigInt((data as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd)).toBe(priced(data.usage!));
    expect(response.headers.get('x-balance-diem')).toBe(String(Number(before.diem.availableNano) / 1e9));
  });

  it('streams a chat through the upstream with usage and cost in the final chunk', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 6,
      temperature: 0,
      stream: true,
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.usage?.completion_tokens).toBe(6);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spent(before, after)).toBe(priced(last.usage!));
    expect(after.diem.reservedNano).toBe(0n);
  });

  it('serves completions and embeddings through the upstream', async () => {
    const completion = await client.completions.create({ model, prompt: 'Once', max_tokens: 4, temperature: 0 });
    expect(completion.usage?.completion_tokens).toBe(4);
    const before = await gw.ledger.balance(gw.accountId);
    const embedding = await client.embeddings.create({ model, input: 'capacity' });
    expect(embedding.data[0]!.embedding).toHaveLength(64);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spent(before, after)).toBe(
      costOf(
        { kind: 'embedding', inputPer1M: price.inputPer1M },
        { kind: 'embedding', inputTokens: embedding.usage.prompt_tokens },
      ).totalNano,
    );
  });

  it('lists the upstream model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(model);
  });
});
