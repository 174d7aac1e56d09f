import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientClosedError, InvalidRequestError, NotFoundError, UnavailableError } from '../../../core/errors.ts';
import type { ChatCompletionChunk, ChatCompletionRequest, CompletionChunk } from '../openaiShapes.ts';
import type { Provider } from '../types.ts';
import { demoModelShape, writeDemoModel } from './demoModel.ts';
import { createLlamaProvider } from './llamaProvider.ts';
import { type Llama, loadLlamaRuntime } from './runtime.ts';

const model = 'perdiem-demo';

function chatRequest(overrides: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return {
    model,
    messages: [{ role: 'user', content: 'Say something about per diem.' }],
    max_tokens: 12,
    temperature: 0,
    ...overrides,
  };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('llama provider on the demo model', () => {
  let directory: string;
  let llama: Llama;
  let provider: Provider;
  let modelPath: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-llama-'));
    modelPath = join(directory, 'demo.gguf');
    await writeDemoModel(modelPath);
    llama = await loadLlamaRuntime();
    provider = createLlamaProvider(
      { kind: 'llama', id: 'local', models: [{ id: model, path: modelPath, contextSize: 512 }], queueLengthMax: 1 },
      { llama: async () => llama, now: () => Date.now() },
    );
  });

  afterAll(async () => {
    await provider?.close();
    await llama?.dispose();
    await rm(directory, { recursive: true, force: true });
  });

  it('times its engine: prefill evaluates the prompt less the prefix it kept, decode one step per output token', async () => {
    const fresh = chatRequest({ messages: [{ role: 'user', content: 'A prompt not seen before: 7f3a, per diem.' }] });
    const first = await provider.chat(fresh);
    const engine = first.engine!;
    expect(engine.prefillTokens).toBeGreaterThan(0);
    // The last prompt token is evaluated by the first decode step, and a prefix kept from earlier is not evaluated.
    expect(engine.prefillTokens).toBeLessThanOrEqual(first.usage.promptTokens - 1);
    expect(engine.decodeTokens).toBe(first.usage.completionTokens);
    expect(engine.prefillSeconds).toBeGreaterThan(0);
    expect(engine.decodeSeconds).toBeGreaterThan(0);
    const again = await provider.chat(fresh);
    expect(again.engine?.prefillTokens).toBe(0);
    const stream = await provider.streamChat({ ...fresh, messages: [{ role: 'user', content: 'Another: 91c2.' }] });
    expect(stream.engine).toBeUndefined();
    await collect(stream);
    expect(stream.engine?.decodeTokens).toBe(stream.usage.completionTokens);
    const embedded = await provider.embed({ model, input: ['per diem', 'compute units'] });
    expect(embedded.engine).toMatchObject({ prefillTokens: embedded.usage.promptTokens, decodeTokens: 0 });
  });

  it('answers a chat with text and exact engine usage', async () => {
    const { response, usage } = await provider.chat(chatRequest());
    expect(response.object).toBe('chat.completion');
    expect(response.model).toBe(model);
    expect(response.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(usage.estimated).toBe(false);
    expect(usage.promptTokens).toBeGreaterThan(8);
    expect(usage.completionTokens).toBe(12);
    expect(response.usage).toEqual({
      prompt_tokens: usage.promptTokens,
      completion_tokens: 12,
      total_tokens: usage.promptTokens + 12,
    });
  });

  it('counts completion prompt tokens with the tokenizer, plus BOS', async () => {
    const prompt = 'Hello world';
    const { response, usage } = await provider.complete({ model, prompt, max_tokens: 5, temperature: 0 });
    // The demo vocabulary has no merges for these words: "▁Hello▁world" is one token per piece, plus BOS.
    expect(usage.promptTokens).toBe(12 + 1);
    expect(usage.completionTokens).toBe(5);
    expect(response.choices[0]?.finish_reason).toBe('length');
  });

  it('is deterministic at temperature 0', async () => {
    const first = await provider.complete({ model, prompt: 'Once upon', max_tokens: 16, temperature: 0 });
    const second = await provider.complete({ model, prompt: 'Once upon', max_tokens: 16, temperature: 0 });
    expect(second.response.choices[0]?.text).toBe(first.response.choices[0]?.text);
  });

  it('samples reproducibly with a seed at temperature > 0', async () => {
    const request = { model, prompt: 'Once upon', max_tokens: 16, temperature: 0.9, seed: 7 };
    const first = await provider.complete(request);
    const second = await provider.complete(request);
    const greedy = await provider.complete({ ...request, temperature: 0 });
    expect(second.response.choices[0]?.text).toBe(first.response.choices[0]?.text);
    expect(first.response.choices[0]?.text).not.toBe(greedy.response.choices[0]?.text);
  });

  it('honours max_tokens', async () => {
    for (const maxTokens of [1, 7]) {
      const { usage, response } = await provider.chat(chatRequest({ max_tokens: maxTokens }));
      expect(usage.completionTokens).toBe(maxTokens);
      expect(response.choices[0]?.finish_reason).toBe('length');
    }
  });

  it('stops at a stop sequence and leaves it out of the text', async () => {
    const full = await provider.complete({ model, prompt: 'Once upon', max_tokens: 30, temperature: 0 });
    const text = full.response.choices[0]?.text ?? '';
    const stop = text.slice(10, 13);
    const cut = await provider.complete({ model, prompt: 'Once upon', max_tokens: 30, temperature: 0, stop: [stop] });
    expect(cut.response.choices[0]?.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.response.choices[0]?.finish_reason).toBe('stop');
  });

  it('streams a chat whose chunks concatenate to the text, with usage in the final chunk', async () => {
    const whole = await provider.chat(chatRequest({ max_tokens: 20 }));
    const stream = await provider.streamChat(chatRequest({ max_tokens: 20, stream: true }));
    const chunks = await collect<ChatCompletionChunk>(stream);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.response.choices[0]?.message.content);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual(whole.response.usage);
    expect(stream.usage).toEqual(whole.usage);
  });

  it('streams a completion token by token', async () => {
    const stream = await provider.streamCompletion({ model, prompt: 'Once upon', max_tokens: 10, temperature: 0 });
    const chunks = await collect<CompletionChunk>(stream);
    const textChunks = chunks.filter((chunk) => (chunk.choices[0]?.text ?? '') !== '');
    expect(textChunks.length).toBeGreaterThanOrEqual(5);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(10);
  });

  it('returns embeddings of the model embedding length, one per input', async () => {
    const { response, usage } = await provider.embed({ model, input: ['hello', 'per diem'] });
    expect(response.data).toHaveLength(2);
    for (const item of response.data) expect(item.embedding).toHaveLength(demoModelShape.embeddingLength);
    expect(response.data[0]?.embedding).not.toEqual(response.data[1]?.embedding);
    expect(usage.promptTokens).toBeGreaterThan(0);
    expect(usage.completionTokens).toBe(0);
  });

  it('stops generating when the client aborts mid-stream and reports delivered usage', async () => {
    const controller = new AbortController();
    const stream = await provider.streamCompletion(
      { model, prompt: 'Once upon', max_tokens: 400, temperature: 0 },
      { signal: controller.signal },
    );
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) {
        if ((chunk.choices[0]?.text ?? '') !== '') received++;
        if (received === 3) controller.abort();
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientClosedError);
    const delivered = (error as ClientClosedError).delivered;
    expect(delivered.completionTokens).toBe(3);
    expect(delivered.promptTokens).toBeGreaterThan(0);
    expect(stream.usage).toEqual(delivered);
    // The model is free again: the aborted generation released the queue.
    const next = await provider.complete({ model, prompt: 'again', max_tokens: 2, temperature: 0 });
    expect(next.usage.completionTokens).toBe(2);
  });

  it('answers 503 when the queue is full', async () => {
    const long = { model, prompt: 'Once upon', max_tokens: 300, temperature: 0 };
    const running = provider.complete(long);
    const waiting = provider.complete(long);
    const rejected = provider.complete(long).catch((error: unknown) => error);
    const error = await rejected;
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).status).toBe(503);
    await Promise.all([running, waiting]);
  });

  it('rejects an unknown model (404) and a prompt longer than the context (400)', async () => {
    await expect(provider.chat(chatRequest({ model: 'nope' }))).rejects.toBeInstanceOf(NotFoundError);
    await expect(provider.complete({ model, prompt: 'x'.repeat(600), max_tokens: 1 })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
  });

  it('reports health without loading anything new', async () => {
    const health = await provider.healthCheck();
    expect(health.ok).toBe(true);
    expect(provider.listModels().map((info) => info.id)).toEqual([model]);
  });
});
