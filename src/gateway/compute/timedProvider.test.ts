/**
 * How the gateway times providers that cannot report their engine (upstreams), checked on a stub provider with a
 * fake stopwatch: the arithmetic only. Real engine timings are checked through the real gateway in
 * computeMeasure.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, Provider, ProviderRegistry } from '../providers/index.ts';
import { type StreamEvent, startStream } from '../providers/stream.ts';
import { createComputeMeter } from './computeMeter.ts';
import { withComputeTiming } from './timedProvider.ts';

const chunk = (content: string): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'up-model',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

/** A stub upstream whose stream advances the fake stopwatch: 300 ms to the first token, then 20 ms per token. */
function stubRegistry(stopwatch: { now: number }, reportsEngineTiming = false): ProviderRegistry {
  const usage = { promptTokens: 60, completionTokens: 11, estimated: false };
  async function* events(): AsyncGenerator<StreamEvent<ChatCompletionChunk>> {
    stopwatch.now += 300;
    yield { kind: 'chunk', chunk: chunk('a'), text: 'a', tokens: 1 };
    for (let i = 0; i < 10; i++) {
      stopwatch.now += 20;
      yield { kind: 'chunk', chunk: chunk('b'), text: 'b', tokens: 1 };
    }
    yield { kind: 'end', chunk: chunk(''), usage };
  }
  const provider = {
    id: 'upstream',
    kind: 'openai',
    priority: 0,
    reportsEngineTiming,
    listModels: () => [{ id: 'up-model', ownedBy: 't', capabilities: ['chat'], contextLength: null }],
    streamChat: async () =>
      startStream({ events: events(), promptTokens: 60, promptEstimated: false, cancel: () => {}, signal: undefined }),
    chat: async () => {
      stopwatch.now += 1_000;
      return { usage, response: {} };
    },
  } as unknown as Provider;
  return {
    providers: [provider],
    providersFor: () => [provider],
    listModels: () => [],
    healthCheck: async () => ({}),
    close: async () => {},
  };
}

describe('upstream timing (stub provider, fake stopwatch)', () => {
  it('reads prefill from the time to the first token and decode from the tokens after it', async () => {
    const stopwatch = { now: 0 };
    const meter = createComputeMeter(() => 1);
    const registry = withComputeTiming(stubRegistry(stopwatch), meter, () => stopwatch.now);
    const [provider] = registry.providersFor('up-model');
    const request = { model: 'up-model', messages: [{ role: 'user' as const, content: 'hi' }] };
    const stream = await provider!.streamChat(request);
    for await (const _ of stream) {
      // drain
    }
    const [row] = meter.table.rows();
    expect(row).toMatchObject({ model: 'up-model', provider: 'upstream', kind: 'text', samples: 1 });
    expect(row?.prefillSecondsPerToken).toBeCloseTo(0.3 / 60, 12);
    expect(row?.decodeSecondsPerToken).toBeCloseTo(0.2 / 10, 12);

    // A non-streaming answer of 1 s: expected 60 × 0.005 + 11 × 0.02 = 0.52 s, so each phase reads ×1/0.52.
    await provider!.chat(request);
    const [after] = meter.table.rows();
    expect(after?.samples).toBe(2);
    expect(after?.decodeSecondsPerToken).toBeCloseTo((0.02 + 0.02 / 0.52) / 2, 12);
  });

  it('never estimates from outside for an adapter that reports its engine: a stream cut short is not measured', async () => {
    const stopwatch = { now: 0 };
    const meter = createComputeMeter(() => 1);
    const registry = withComputeTiming(stubRegistry(stopwatch, true), meter, () => stopwatch.now);
    const [provider] = registry.providersFor('up-model');
    const stream = await provider!.streamChat({ model: 'up-model', messages: [{ role: 'user', content: 'hi' }] });
    let seen = 0;
    for await (const _ of stream) {
      if (++seen === 3) break;
    }
    expect(meter.table.rows()).toEqual([]);
  });
});
