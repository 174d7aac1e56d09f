/**
 * A standalone OpenAI-compatible server for one GGUF, through the perdiem llama provider: the "llama.cpp-style
 * server on loopback" that end-to-end tests point the `openai` provider at.
 *
 *   node scripts/llama-server.ts [--model <path.gguf>] [--model-id <id>] [--port 0] [--host 127.0.0.1]
 *                                [--threads 1] [--context-size 512] [--queue-length 16]
 *
 * Without --model it serves the demo model (random weights), writing it first if needed. Prints
 * `listening on http://HOST:PORT` once ready.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidRequestError, toOpenAiError } from '../src/core/errors.ts';
import { providerLimits } from '../src/gateway/providers/limits.ts';
import { demoModelPathDefault, writeDemoModel } from '../src/gateway/providers/llama/demoModel.ts';
import { createLlamaProvider } from '../src/gateway/providers/llama/llamaProvider.ts';
import { loadLlamaRuntime } from '../src/gateway/providers/llama/runtime.ts';
import type { ProviderStream } from '../src/gateway/providers/types.ts';

const requestBodyBytesMax = 4 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'model-id': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    threads: { type: 'string', default: String(providerLimits.llamaThreadCount) },
    'context-size': { type: 'string' },
    'queue-length': { type: 'string', default: String(providerLimits.queueLengthMax) },
  },
});

const modelPath = values.model ?? (await writeDemoModel(demoModelPathDefault)).path;
const modelId = values['model-id'] ?? basename(modelPath).replace(/\.gguf$/i, '');
const llamaRuntime = loadLlamaRuntime();
const provider = createLlamaProvider(
  {
    kind: 'llama',
    id: 'llama-server',
    threads: Number(values.threads),
    queueLengthMax: Number(values['queue-length']),
    models: [
      {
        id: modelId,
        path: modelPath,
        ...(values['context-size'] ? { contextSize: Number(values['context-size']) } : {}),
      },
    ],
  },
  { llama: () => llamaRuntime, now: () => Date.now() },
);

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.byteLength;
    if (size > requestBodyBytesMax) {
      throw new InvalidRequestError(`request body over ${requestBodyBytesMax} bytes`, { code: 'body_too_large' });
    }
    parts.push(part);
  }
  try {
    const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {}
  throw new InvalidRequestError('the body must be a JSON object', { code: 'invalid_json' });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: unknown): void {
  const rendered = toOpenAiError(error);
  if (rendered.status === 500) console.error(error);
  if (!res.headersSent) sendJson(res, rendered.status, rendered.body, rendered.headers);
  else res.end();
}

async function pipeStream<T extends { usage?: unknown }>(
  res: ServerResponse,
  stream: ProviderStream<T>,
  includeUsage: boolean,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  try {
    for await (const chunk of stream) {
      if (chunk.usage != null && !includeUsage) continue;
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
  } catch (error) {
    // A stream that fails after it started ends with an error event, then [DONE].
    res.write(`event: error\ndata: ${JSON.stringify(toOpenAiError(error).body)}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

type Body = Record<string, unknown> & { model: string; stream?: boolean; stream_options?: { include_usage?: boolean } };

async function route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
    const data = provider
      .listModels()
      .map((model) => ({ id: model.id, object: 'model', created: 0, owned_by: model.ownedBy }));
    return sendJson(res, 200, { object: 'list', data });
  }
  if (req.method === 'GET' && path === '/health') return sendJson(res, 200, await provider.healthCheck());
  if (req.method !== 'POST') return sendJson(res, 404, toOpenAiError(notFound(path)).body);

  const body = (await readJson(req)) as Body;
  const options = { signal };
  const includeUsage = body.stream_options?.include_usage === true;
  switch (path) {
    case '/v1/chat/completions':
      if (body.stream) return pipeStream(res, await provider.streamChat(body as never, options), includeUsage);
      return sendJson(res, 200, (await provider.chat(body as never, options)).response);
    case '/v1/completions':
      if (body.stream) return pipeStream(res, await provider.streamCompletion(body as never, options), includeUsage);
      return sendJson(res, 200, (await provider.complete(body as never, options)).response);
    case '/v1/embeddings':
      return sendJson(res, 200, (await provider.embed(body as never, options)).response);
    default:
      return sendJson(res, 404, toOpenAiError(notFound(path)).body);
  }
}

function notFound(path: string | undefined): InvalidRequestError {
  return new InvalidRequestError(`no route ${path}`, { code: 'not_found' });
}

const server = createServer((req, res) => {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  route(req, res, controller.signal).catch((error: unknown) => sendError(res, error));
});

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`listening on http://${address}:${port}`);
});

const shutdown = () => {
  server.close();
  server.closeAllConnections();
  void provider
    .close()
    .then(async () => (await llamaRuntime).dispose())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
