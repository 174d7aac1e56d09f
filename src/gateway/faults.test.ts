import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../core/money.ts';
import type { Balance } from '../ledger/types.ts';
import { type FaultyUpstream, faultModels, startFaultyUpstream } from './testing/faultyUpstream.ts';
import { startTestGateway, type TestGateway } from './testing/fixture.ts';

function total(b: Balance): bigint {
  return b.diem.availableNano + b.credits.availableNano + b.usd.availableNano;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met in time');
}

describe('upstream faults and client aborts', () => {
  let upstream: FaultyUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const messages = [{ role: 'user' as const, content: 'Hello' }];

  beforeAll(async () => {
    upstream = await startFaultyUpstream();
    gw = await startTestGateway({
      pricedModels: faultModels,
      providers: async () => [
        {
          kind: 'openai',
          id: 'faulty',
          upstreams: [{ name: 'faulty', baseUrl: upstream.baseUrl }],
          models: faultModels.map((id) => ({ id })),
          retries: 0,
          timeouts: { connectMs: 500, firstByteMs: 400, totalMs: 10_000 },
        },
      ],
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function expectNoChargeOn(model: string, stream: boolean, status: number) {
    const before = await gw.ledger.balance(gw.accountId);
    const error = await (async () => {
      const result = await client.chat.completions.create({ model, messages, max_tokens: 20, stream });
      if (stream) for await (const _ of result as AsyncIterable<unknown>) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    // Refused after its reservation: the headers still say what the account had before the request.
    const headers = (error as InstanceType<typeof OpenAI.APIError>).headers;
    expect(headers?.get('x-balance-diem')).toBe(formatUsd(before.diem.availableNano));
    const after = await gw.ledger.balance(gw.accountId);
    expect(total(after)).toBe(total(before));
    expect(after.diem.reservedNano).toBe(0n);
  }

  it('answers 502 to an upstream 500 and charges nothing', () => expectNoChargeOn('fault-500', false, 502));
  it('answers 502 to an upstream 500 on a stream and charges nothing', () => expectNoChargeOn('fault-500', true, 502));
  it('answers 504 when the upstream never answers, and charges nothing', () =>
    expectNoChargeOn('fault-hang', true, 504));
  it('answers 502 to a reset before the first byte and charges nothing', () =>
    expectNoChargeOn('fault-reset-before', true, 502));

  it('ends a stream reset after its first byte with an SSE error event and charges only the delivered tokens', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const stream = await client.chat.completions.create({
      model: 'fault-reset-after',
      messages,
      max_tokens: 50,
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(text).toBe('abcdabcd');
    await waitFor(async () => (await gw.ledger.balance(gw.accountId)).diem.reservedNano === 0n);
    const page = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 2 });
    const output = page.items.find((item) => item.sku === 'text.output');
    expect(output?.units).toBe(2);
    const charged = page.items.reduce((sum, item) => sum + item.amountNano, 0n);
    expect(total(before) - total(await gw.ledger.balance(gw.accountId))).toBe(charged);
  });

  it('aborts the upstream when the client goes away mid-stream and charges only what was generated', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'fault-slow', messages, max_tokens: 1000, stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    await (async () => {
      for await (const _ of stream) {
        if (++received === 3) controller.abort();
      }
    })().catch(() => {});
    const written = await upstream.slowClosedAfter;
    expect(written).toBeLessThan(200);
    await waitFor(async () => (await gw.ledger.balance(gw.accountId)).diem.reservedNano === 0n);
    const page = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 2 });
    const output = page.items.find((item) => item.sku === 'text.output');
    expect(output!.units).toBeGreaterThanOrEqual(3);
    expect(output!.units).toBeLessThanOrEqual(written);
    const charged = page.items.reduce((sum, item) => sum + item.amountNano, 0n);
    expect(total(before) - total(await gw.ledger.balance(gw.accountId))).toBe(charged);
  });
});
