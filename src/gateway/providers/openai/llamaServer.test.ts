import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientClosedError, UnavailableError } from '../../../core/errors.ts';
import { demoModelShape, writeDemoModel } from '../llama/demoModel.ts';
import type { ChatCompletionChunk } from '../openaiShapes.ts';
import type { Provider } from '../types.ts';
import { createOpenAiProvider } from './openaiProvider.ts';

const repoRoot = join(import.meta.dirname, '../../../..');
const model = 'perdiem-demo';

async function startLlamaServer(modelPath: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['scripts/llama-server.ts', '--model', modelPath, '--model-id', model, '--port', '0', '--queue-length', '1'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`llama-server exited with ${code}: ${output}`)));
  });
  return { child, url };
}

describe('openai provider against scripts/llama-server.ts (a real child process)', () => {
  let directory: string;
  let server: { child: ChildProcess; url: string };
  let provider: Provider;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-llama-server-'));
    const modelPath = join(directory, 'demo.gguf');
    await writeDemoModel(modelPath);
    server = await startLlamaServer(modelPath);
    provider = createOpenAiProvider(
      {
        kind: 'openai',
        id: 'loopback',
        upstreams: [{ name: 'llama-server', baseUrl: `${server.url}/v1` }],
        models: [{ id: model }],
      },
      { now: () => Date.now() },
    );
  });

  afterAll(async () => {
    await provider?.close();
    if (server?.child.exitCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  });

  it('answers a chat with exact engine usage', async () => {
    const { response, usage } = await provider.chat({
      model,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(response.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(usage.estimated).toBe(false);
    expect(usage.completionTokens).toBe(8);
  });

  it('streams a chat with usage from the final chunk, matching the non-streamed text', async () => {
    const request = { model, messages: [{ role: 'user' as const, content: 'Hello' }], max_tokens: 10, temperature: 0 };
    const whole = await provider.chat(request);
    const stream = await provider.streamChat({ ...request, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
      whole.response.choices[0]?.message.content,
    );
    expect(stream.usage).toEqual(whole.usage);
  });

  it('serves completions and embeddings', async () => {
    const completion = await provider.complete({ model, prompt: 'Once upon', max_tokens: 4, temperature: 0 });
    expect(completion.usage).toMatchObject({ completionTokens: 4, estimated: false });
    const embedding = await provider.embed({ model, input: ['a', 'b'] });
    expect(embedding.response.data.map((item) => item.embedding.length)).toEqual([
      demoModelShape.embeddingLength,
      demoModelShape.embeddingLength,
    ]);
  });

  it('is healthy and lists its model on GET /v1/models', async () => {
    expect((await provider.healthCheck()).ok).toBe(true);
  });

  it('works with the official openai client, streaming included', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const models = await client.models.list();
    expect(models.data.map((entry) => entry.id)).toEqual([model]);
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 5,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage?.completion_tokens).toBe(5);
  });

  it('a client abort mid-stream frees the server for the next request', async () => {
    const controller = new AbortController();
    const stream = await provider.streamCompletion(
      { model, prompt: 'Once upon', max_tokens: 400, temperature: 0 },
      { signal: controller.signal },
    );
    let received = 0;
    const error = await (async () => {
      for await (const _chunk of stream) if (++received === 3) controller.abort();
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientClosedError);
    const next = await provider.complete({ model, prompt: 'again', max_tokens: 2, temperature: 0 });
    expect(next.usage.completionTokens).toBe(2);
  });

  it('passes the server queue-full 503 through as UnavailableError', async () => {
    const long = { model, prompt: 'Once upon', max_tokens: 400, temperature: 0 };
    const results = await Promise.allSettled([
      provider.complete(long),
      provider.complete(long),
      provider.complete(long),
    ]);
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
  });
});
