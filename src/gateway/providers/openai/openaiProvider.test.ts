import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientClosedError,
  InvalidRequestError,
  StreamInterruptedError,
  UnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../core/errors.ts';
import type { ChatCompletionChunk, ChatCompletionRequest, CompletionChunk } from '../openaiShapes.ts';
import type { Provider } from '../types.ts';
import type { OpenAiProviderConfig } from './config.ts';
import { type ReplayServer, refusedPort, startReplayServer } from './fixtures/replayServer.ts';
import { createOpenAiProvider } from './openaiProvider.ts';

const chatRequest: ChatCompletionRequest = {
  model: 'public-model',
  messages: [{ role: 'user', content: 'Hello there' }],
  max_tokens: 16,
};

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('openai provider', () => {
  let primary: ReplayServer;
  let secondary: ReplayServer;
  const providers: Provider[] = [];

  function provider(upstreams: OpenAiProviderConfig['upstreams'], overrides: Partial<OpenAiProviderConfig> = {}) {
    const created = createOpenAiProvider(
      {
        kind: 'openai',
        id: 'remote',
        upstreams,
        models: [{ id: 'public-model', upstreamId: 'upstream-model' }],
        retries: 0,
        timeouts: { connectMs: 1_000, firstByteMs: 1_000, totalMs: 10_000 },
        ...overrides,
      },
      { now: () => Date.now() },
    );
    providers.push(created);
    return created;
  }
  const upstream = (server: ReplayServer, name = 'a') => ({ name, baseUrl: server.baseUrl, apiKey: 'sk-test' });

  beforeAll(async () => {
    primary = await startReplayServer();
    secondary = await startReplayServer();
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((created) => created.close()));
    primary.requests.length = 0;
    secondary.requests.length = 0;
  });
  afterAll(async () => {
    await primary.close();
    await secondary.close();
  });

  describe('recorded fixtures', () => {
    it('recorded fixture: chat maps the model id both ways and takes usage from the response', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.json' });
      const { response, usage } = await provider([upstream(primary)]).chat(chatRequest, { requestId: 'req-1' });
      expect(primary.requests[0]?.body?.model).toBe('upstream-model');
      expect(primary.requests[0]?.headers.authorization).toBe('Bearer sk-test');
      expect(primary.requests[0]?.headers['x-request-id']).toBe('req-1');
      expect(response.model).toBe('public-model');
      expect(response.choices[0]?.message.content).toBe('Hello! How can I assist you today?');
      expect(usage).toEqual({ promptTokens: 19, completionTokens: 10, estimated: false });
    });

    it('recorded fixture: a chat stream asks for usage upstream, forwards chunks and ends with the usage chunk', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.stream.sse' });
      const stream = await provider([upstream(primary)]).streamChat({ ...chatRequest, stream: true });
      const chunks = await collect<ChatCompletionChunk>(stream);
      expect(primary.requests[0]?.body?.stream_options).toEqual({ include_usage: true });
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello! How can I help?');
      expect(chunks.every((chunk) => chunk.model === 'public-model')).toBe(true);
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 6 } });
      expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
      expect(stream.usage).toEqual({ promptTokens: 9, completionTokens: 6, estimated: false });
    });

    it('recorded fixture: a stream without usage is estimated and flagged', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat-no-usage.stream.sse' });
      const stream = await provider([upstream(primary)]).streamChat(chatRequest);
      await collect(stream);
      expect(stream.usage.estimated).toBe(true);
      expect(stream.usage.completionTokens).toBe(4); // 16 bytes of text at 4 bytes per token
      expect(stream.usage.promptTokens).toBeGreaterThan(0);
    });

    it('recorded fixture: completion stream with usage on the finish chunk', async () => {
      primary.setBehaviour('/completions', { kind: 'replay', fixture: 'completion.stream.sse' });
      const stream = await provider([upstream(primary)]).streamCompletion({ model: 'public-model', prompt: 'Say' });
      const chunks = await collect<CompletionChunk>(stream);
      expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe('This is a test');
      expect(chunks.slice(0, -1).every((chunk) => chunk.usage === undefined)).toBe(true);
      expect(stream.usage).toEqual({ promptTokens: 4, completionTokens: 3, estimated: false });
    });

    it('recorded fixture: completion and embeddings', async () => {
      primary.setBehaviour('/completions', { kind: 'replay', fixture: 'completion.json' });
      primary.setBehaviour('/embeddings', { kind: 'replay', fixture: 'embeddings.json' });
      const created = provider([upstream(primary)]);
      const completion = await created.complete({ model: 'public-model', prompt: 'Say this is a test' });
      expect(completion.usage).toEqual({ promptTokens: 5, completionTokens: 7, estimated: false });
      const embedding = await created.embed({ model: 'public-model', input: 'hello' });
      expect(embedding.response.data[0]?.embedding).toHaveLength(3);
      expect(embedding.usage).toEqual({ promptTokens: 8, completionTokens: 0, estimated: false });
    });

    it('recorded fixture: an error event after the first chunk throws a typed error with delivered usage', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat-error-event.stream.sse' });
      const stream = await provider([upstream(primary)]).streamChat(chatRequest);
      const received: string[] = [];
      const error = await (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StreamInterruptedError);
      expect((error as StreamInterruptedError).message).toContain('CUDA out of memory');
      expect(received.join('')).toBe('Partial answer');
      expect((error as StreamInterruptedError).delivered).toMatchObject({ completionTokens: 4, estimated: true });
    });

    it('recorded fixture: health check reads GET /models', async () => {
      primary.setBehaviour('/models', { kind: 'replay', fixture: 'models.json' });
      const health = await provider([upstream(primary)]).healthCheck();
      expect(health.ok).toBe(true);
      expect(primary.requests[0]).toMatchObject({ method: 'GET', path: '/models' });
    });
  });

  describe('failover and failures', () => {
    it('fails over when the first upstream refuses connections', async () => {
      secondary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.json' });
      const port = await refusedPort();
      const created = provider([{ name: 'down', baseUrl: `http://127.0.0.1:${port}/v1` }, upstream(secondary, 'b')]);
      const { usage } = await created.chat(chatRequest);
      expect(usage.promptTokens).toBe(19);
      expect(secondary.requests).toHaveLength(1);
    });

    it('answers 503 when every upstream refuses connections', async () => {
      const port = await refusedPort();
      const created = provider([{ name: 'down', baseUrl: `http://127.0.0.1:${port}/v1` }]);
      await expect(created.chat(chatRequest)).rejects.toBeInstanceOf(UnavailableError);
    });

    it('fails over when the first upstream answers 500 before the first byte, after retrying it', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'status', status: 500 });
      secondary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.stream.sse' });
      const created = provider([upstream(primary), upstream(secondary, 'b')], { retries: 1 });
      const stream = await created.streamChat(chatRequest);
      await collect(stream);
      expect(primary.requests).toHaveLength(2);
      expect(secondary.requests).toHaveLength(1);
      expect(stream.usage.completionTokens).toBe(6);
    });

    it('does not fail over a 400: the request itself is wrong', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'status', status: 400 });
      secondary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.json' });
      const created = provider([upstream(primary), upstream(secondary, 'b')]);
      await expect(created.chat(chatRequest)).rejects.toBeInstanceOf(InvalidRequestError);
      expect(secondary.requests).toHaveLength(0);
    });

    it('answers 504 when the upstream sends nothing before the first-byte timeout', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'hang' });
      const created = provider([upstream(primary)], { timeouts: { firstByteMs: 200, totalMs: 5_000 } });
      const startedAt = Date.now();
      await expect(created.streamChat(chatRequest)).rejects.toBeInstanceOf(UpstreamTimeoutError);
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    });

    it('answers 504 when the whole call exceeds the total timeout', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'hang' });
      const created = provider([upstream(primary)], { timeouts: { firstByteMs: 5_000, totalMs: 200 } });
      await expect(created.chat(chatRequest)).rejects.toBeInstanceOf(UpstreamTimeoutError);
    });

    it('fails over when the connection resets before the first byte', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'resetBeforeFirstByte' });
      secondary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.stream.sse' });
      const created = provider([upstream(primary), upstream(secondary, 'b')]);
      const chunks = await collect(await created.streamChat(chatRequest));
      expect(chunks.length).toBeGreaterThan(3);
      expect(secondary.requests).toHaveLength(1);
    });

    it('a reset after the first byte is a typed error with delivered usage, never a failover', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'resetAfterFirstByte', fixture: 'chat.stream.sse', events: 3 });
      secondary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.stream.sse' });
      const created = provider([upstream(primary), upstream(secondary, 'b')]);
      const stream = await created.streamChat(chatRequest);
      const received: string[] = [];
      const error = await (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StreamInterruptedError);
      expect(received.join('')).toBe('Hello! How');
      expect((error as StreamInterruptedError).delivered).toMatchObject({ completionTokens: 3, estimated: true });
      expect(secondary.requests).toHaveLength(0);
    });

    it('a client abort mid-stream closes the upstream connection', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'slowStream', intervalMs: 20 });
      const controller = new AbortController();
      const stream = await provider([upstream(primary)]).streamChat(chatRequest, { signal: controller.signal });
      let received = 0;
      const error = await (async () => {
        for await (const _chunk of stream) {
          received++;
          if (received === 3) controller.abort();
        }
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ClientClosedError);
      expect((error as ClientClosedError).delivered.completionTokens).toBeGreaterThan(0);
      await primary.clientAborted;
    });

    it('a plain chat fails over after retrying a 500, and after a reset or a first-byte timeout', async () => {
      secondary.setBehaviour('/chat/completions', { kind: 'replay', fixture: 'chat.json' });
      primary.setBehaviour('/chat/completions', { kind: 'status', status: 500 });
      const retried = await provider([upstream(primary), upstream(secondary, 'b')], { retries: 1 }).chat(chatRequest);
      expect(retried.usage).toEqual({ promptTokens: 19, completionTokens: 10, estimated: false });
      expect(primary.requests).toHaveLength(2);
      primary.setBehaviour('/chat/completions', { kind: 'resetBeforeFirstByte' });
      expect((await provider([upstream(primary), upstream(secondary, 'b')]).chat(chatRequest)).usage.promptTokens).toBe(
        19,
      );
      primary.setBehaviour('/chat/completions', { kind: 'hang' });
      const slow = provider([upstream(primary), upstream(secondary, 'b')], { timeouts: { firstByteMs: 200 } });
      expect((await slow.chat(chatRequest)).usage.completionTokens).toBe(10);
      expect(secondary.requests).toHaveLength(3);
      await expect(
        provider([upstream(primary)], { timeouts: { firstByteMs: 200 } }).chat(chatRequest),
      ).rejects.toMatchObject({ code: 'upstream_first_byte_timeout' });
    });

    it('a plain chat answered without usage is estimated and flagged; a non-object answer is refused', async () => {
      const answer = { id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { content: 'abcdefgh' } }] };
      primary.setBehaviour('/chat/completions', { kind: 'status', status: 200, body: JSON.stringify(answer) });
      const estimated = await provider([upstream(primary)]).chat(chatRequest);
      expect(estimated.usage).toEqual({ promptTokens: 7, completionTokens: 2, estimated: true });
      expect(estimated.response.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 2 });
      primary.setBehaviour('/chat/completions', { kind: 'status', status: 200, body: '"text"' });
      await expect(provider([upstream(primary)]).chat(chatRequest)).rejects.toMatchObject({
        code: 'upstream_bad_body',
      });
    });

    it('a client abort while a plain chat waits ends the call at once', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'hang' });
      const controller = new AbortController();
      const pending = provider([upstream(primary)]).chat(chatRequest, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const startedAt = Date.now();
      await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
      expect(Date.now() - startedAt).toBeLessThan(900);
    });

    it('a 500 is reported as a 502 when no upstream is left, and a busy 503 as a 503', async () => {
      primary.setBehaviour('/chat/completions', { kind: 'status', status: 503 });
      await expect(provider([upstream(primary)]).chat(chatRequest)).rejects.toBeInstanceOf(UnavailableError);
      primary.setBehaviour('/completions', { kind: 'status', status: 500 });
      await expect(
        provider([upstream(primary)]).complete({ model: 'public-model', prompt: 'x' }),
      ).rejects.toBeInstanceOf(UpstreamError);
    });
  });
});
