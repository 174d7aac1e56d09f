/**
 * The `openai` provider: any OpenAI-compatible base URL (vLLM, SGLang, llama.cpp server, Ollama, OpenAI,
 * OpenRouter, Venice). Upstreams are tried in order, with retries, but only before the first byte: once a stream
 * has produced its first event it belongs to that upstream, and a later failure is a `StreamInterruptedError`
 * carrying what was delivered.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { ClientClosedError, UpstreamError, UpstreamTimeoutError } from '../../../core/errors.ts';
import { estimateChatPromptTokens, estimatePromptTokens, estimateTokens } from '../estimate.ts';
import { providerLimits } from '../limits.ts';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Completion,
  CompletionChunk,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  ImageGenerationRequest,
  ImageGenerationResponse,
} from '../openaiShapes.ts';
import { type StreamEvent, startStream } from '../stream.ts';
import {
  type CallOptions,
  type Completed,
  type HealthReport,
  type ModelInfo,
  type Provider,
  type ProviderStream,
  type SpeechAudio,
  type SpeechRequest,
  toOpenAiUsage,
  type Usage,
} from '../types.ts';
import {
  type OpenAiProviderConfig,
  type OpenAiTimeouts,
  type OpenAiUpstreamConfig,
  upstreamModelId,
} from './config.ts';
import { type AttemptFailure, exhausted, failureFromError, failureFromStatus, firstByteTimeout } from './failures.ts';
import { parseSse } from './sse.ts';
import { extractUsage } from './usage.ts';

export type { OpenAiProviderConfig };

export interface OpenAiProviderDeps {
  /** Wall clock in ms, for latencies. */
  now: () => number;
  /** HTTP connection pool; by default the provider makes (and closes) its own, with the connect timeout. */
  dispatcher?: Dispatcher;
}

/** Thrown inside an attempt to carry an already-classified failure to the failover loop. */
class AttemptFailed extends Error {
  readonly failure: AttemptFailure;
  constructor(failure: AttemptFailure) {
    super(failure.error.message);
    this.failure = failure;
  }
}

interface Attempt {
  signal: AbortSignal;
  /** Stops the first-byte timer. */
  firstByte(): void;
  timedOut(): boolean;
}

/**
 * One call: the caller's signal, the total deadline and cancellation, joined by hand rather than with
 * `AbortSignal.any`/`AbortSignal.timeout` (which cost a composite signal, weak refs and a timer object per call on the
 * hot path). Whatever ends the call aborts the attempt in flight, which undici watches for the body too.
 */
class Call {
  readonly options: CallOptions | undefined;
  #reason: unknown = undefined;
  #ended = false;
  #deadlineHit = false;
  #current: AbortController | null = null;
  readonly #timer: NodeJS.Timeout;
  readonly #onClientAbort = () => this.abort(this.options?.signal?.reason);

  constructor(options: CallOptions | undefined, totalMs: number) {
    this.options = options;
    this.#timer = setTimeout(() => {
      this.#deadlineHit = true;
      this.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, totalMs);
    this.#timer.unref();
    const signal = options?.signal;
    if (signal?.aborted) this.abort(signal.reason);
    else signal?.addEventListener('abort', this.#onClientAbort, { once: true });
  }

  get deadlineHit(): boolean {
    return this.#deadlineHit;
  }

  abort(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    this.#current?.abort(reason);
  }

  /** A controller for the next attempt, already aborted when the call is. */
  attemptController(): AbortController {
    const controller = new AbortController();
    if (this.#ended) controller.abort(this.#reason);
    this.#current = controller;
    return controller;
  }

  /** The call is over (its body read, or its stream finished): drop the timer and the listener. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.options?.signal?.removeEventListener('abort', this.#onClientAbort);
  }
}

type Json = Record<string, unknown>;

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path}`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function chatText(chunk: Json): string {
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
  return choices
    .map((choice) => {
      const content = (choice.delta as Json | undefined)?.content ?? (choice.message as Json | undefined)?.content;
      return typeof content === 'string' ? content : '';
    })
    .join('');
}

function completionText(chunk: Json): string {
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
  return choices.map((choice) => (typeof choice.text === 'string' ? choice.text : '')).join('');
}

function hasChoices(chunk: Json): boolean {
  return Array.isArray(chunk.choices) && chunk.choices.length > 0;
}

function hasFinish(chunk: Json): boolean {
  return hasChoices(chunk) && (chunk.choices as Json[]).some((choice) => choice.finish_reason != null);
}

async function* upstreamChunks(
  body: AsyncIterable<Uint8Array>,
  upstream: string,
): AsyncGenerator<Json, 'done' | 'eof'> {
  for await (const event of parseSse(body, providerLimits.sseEventBytesMax)) {
    if (event.data === '[DONE]') return 'done';
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      throw new UpstreamError(`upstream ${upstream} sent a malformed stream event`, { code: 'upstream_bad_event' });
    }
    const error = (parsed as { error?: { message?: unknown } | string } | null)?.error;
    if (event.event === 'error' || error !== undefined) {
      const message = typeof error === 'string' ? error : String(error?.message ?? 'unknown error');
      throw new UpstreamError(`upstream ${upstream} stream error: ${message}`, { code: 'upstream_stream_error' });
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new UpstreamError(`upstream ${upstream} sent a non-object stream event`, { code: 'upstream_bad_event' });
    }
    yield parsed as Json;
  }
  return 'eof';
}

export function createOpenAiProvider(config: OpenAiProviderConfig, deps: OpenAiProviderDeps): Provider {
  const timeouts: OpenAiTimeouts = {
    connectMs: config.timeouts?.connectMs ?? providerLimits.connectTimeoutMs,
    firstByteMs: config.timeouts?.firstByteMs ?? providerLimits.firstByteTimeoutMs,
    totalMs: config.timeouts?.totalMs ?? providerLimits.upstreamTimeoutMs,
  };
  const retries = config.retries ?? providerLimits.upstreamRetriesMax;
  // Built once: validation looks a model up here on every request.
  const models: readonly ModelInfo[] = config.models.map((model) => ({
    id: model.id,
    ownedBy: model.ownedBy ?? config.id,
    capabilities: model.capabilities ?? ['chat', 'completion'],
    contextLength: model.contextLength ?? null,
  }));
  const ownDispatcher =
    deps.dispatcher === undefined
      ? new Agent({
          connect: { timeout: timeouts.connectMs },
          headersTimeout: timeouts.firstByteMs,
          bodyTimeout: timeouts.firstByteMs,
        })
      : null;
  const dispatcher: Dispatcher = deps.dispatcher ?? (ownDispatcher as Agent);

  function startAttempt(call: Call): Attempt & { dispose(): void } {
    const controller = call.attemptController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('first byte timeout'));
    }, timeouts.firstByteMs);
    return {
      signal: controller.signal,
      firstByte: () => clearTimeout(timer),
      timedOut: () => timedOut,
      dispose: () => clearTimeout(timer),
    };
  }

  /** Per upstream, once: where to send (origin and path prefix, no URL parsing per request) and the fixed headers. */
  const targets = new Map(
    config.upstreams.map((upstream) => {
      const url = new URL(upstream.baseUrl.replace(/\/+$/, ''));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {}),
        ...upstream.headers,
      };
      return [upstream, { origin: url.origin, prefix: `${url.pathname.replace(/\/+$/, '')}/`, headers }] as const;
    }),
  );

  function headersFor(upstream: OpenAiUpstreamConfig, options: CallOptions | undefined): Record<string, string> {
    const fixed = targets.get(upstream)!.headers;
    if (!options?.requestId || (upstream.headers && 'x-request-id' in upstream.headers)) return fixed;
    return { ...fixed, 'x-request-id': options.requestId };
  }

  async function send(upstream: OpenAiUpstreamConfig, path: string, body: Json, call: Call, attempt: Attempt) {
    const target = targets.get(upstream)!;
    const response = await dispatcher.request({
      origin: target.origin,
      path: target.prefix + path,
      method: 'POST',
      headers: headersFor(upstream, call.options),
      body: JSON.stringify(body),
      signal: attempt.signal,
    });
    if (response.statusCode >= 300) {
      const text = await response.body.text().catch(() => '');
      throw new AttemptFailed(
        failureFromStatus(upstream.name, response.statusCode, text, headerValue(response.headers['retry-after'])),
      );
    }
    return response;
  }

  /**
   * `send` for an answer read whole: the body's chunks are gathered by a dispatch handler and parsed once, without
   * the body stream, its promise plumbing and the signal bookkeeping that `request` sets up per call (about 3 µs of a
   * gateway's CPU per request). The answer's headers are its first byte. Errors are `send`'s: the dispatcher's own,
   * the attempt signal's reason, an `AttemptFailed` for a status of 300 or more, or the parser's SyntaxError.
   */
  function sendForJson(
    upstream: OpenAiUpstreamConfig,
    path: string,
    body: Json,
    call: Call,
    attempt: Attempt,
  ): Promise<unknown> {
    const target = targets.get(upstream)!;
    return new Promise((resolve, reject) => {
      let statusCode = 0;
      let retryAfter: string | undefined;
      const chunks: Buffer[] = [];
      let ended = false;
      const fail = (error: unknown) => {
        if (ended) return;
        ended = true;
        reject(error);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          const { signal } = attempt;
          if (signal.aborted) controller.abort(signal.reason);
          else {
            signal.addEventListener(
              'abort',
              () => {
                if (!ended) controller.abort(signal.reason);
              },
              { once: true },
            );
          }
        },
        onResponseStart(_controller, status, headers) {
          statusCode = status;
          retryAfter = headerValue(headers['retry-after']);
          attempt.firstByte();
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          if (ended) return;
          ended = true;
          const text = Buffer.concat(chunks).toString('utf8');
          if (statusCode >= 300) {
            reject(new AttemptFailed(failureFromStatus(upstream.name, statusCode, text, retryAfter)));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(error);
          }
        },
        onResponseError(_controller, error) {
          fail(error);
        },
      };
      try {
        dispatcher.dispatch(
          {
            origin: target.origin,
            path: target.prefix + path,
            method: 'POST',
            headers: headersFor(upstream, call.options),
            body: JSON.stringify(body),
          },
          handler,
        );
      } catch (error) {
        fail(error);
      }
    });
  }

  /** Runs `open` on each upstream in order, with retries, until one succeeds before its first byte. */
  async function withFailover<T>(
    call: Call,
    open: (upstream: OpenAiUpstreamConfig, attempt: Attempt) => Promise<T>,
  ): Promise<T> {
    const failures: AttemptFailure[] = [];
    for (const upstream of config.upstreams) {
      for (let attemptIndex = 0; attemptIndex <= retries; attemptIndex++) {
        const attempt = startAttempt(call);
        try {
          const value = await open(upstream, attempt);
          attempt.dispose();
          return value;
        } catch (error) {
          attempt.dispose();
          if (call.options?.signal?.aborted) {
            throw new ClientClosedError('client closed the request', {
              code: 'client_closed',
              cause: error,
              delivered: { promptTokens: 0, completionTokens: 0, estimated: false },
            });
          }
          if (call.deadlineHit) {
            throw new UpstreamTimeoutError(`upstream call exceeded ${timeouts.totalMs} ms`, {
              code: 'upstream_timeout',
              cause: error,
            });
          }
          const failure = attempt.timedOut()
            ? firstByteTimeout(upstream.name, timeouts.firstByteMs)
            : error instanceof AttemptFailed
              ? error.failure
              : failureFromError(upstream.name, error);
          failures.push(failure);
          if (!failure.failover) throw failure.error;
          if (!failure.retrySame) break;
        }
      }
    }
    throw exhausted(failures);
  }

  function mapRequest<T extends { model: string }>(upstream: OpenAiUpstreamConfig, body: T): Json {
    return { ...body, model: upstreamModelId(config, upstream, body.model) };
  }

  async function callJson(
    path: string,
    body: { model: string; [field: string]: unknown },
    options: CallOptions | undefined,
  ): Promise<Json> {
    const call = new Call(options, timeouts.totalMs);
    try {
      return await withFailover(call, async (upstream, attempt) => {
        const parsed = await sendForJson(upstream, path, mapRequest(upstream, body), call, attempt);
        if (typeof parsed !== 'object' || parsed === null) {
          throw new UpstreamError(`upstream ${upstream.name} answered with a non-object`, {
            code: 'upstream_bad_body',
          });
        }
        return parsed as Json;
      });
    } finally {
      call.dispose();
    }
  }

  async function openStream<TChunk>(
    path: string,
    body: ChatCompletionRequest | CompletionRequest,
    options: CallOptions | undefined,
    textOf: (chunk: Json) => string,
    promptEstimate: number,
  ): Promise<ProviderStream<TChunk>> {
    const call = new Call(options, timeouts.totalMs);
    const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };

    async function* events(): AsyncGenerator<StreamEvent<TChunk>> {
      try {
        yield* openedEvents();
      } finally {
        call.dispose();
      }
    }

    async function* openedEvents(): AsyncGenerator<StreamEvent<TChunk>> {
      const opened = await withFailover(call, async (upstream, attempt) => {
        const response = await send(upstream, path, mapRequest(upstream, streamBody), call, attempt);
        const chunks = upstreamChunks(response.body, upstream.name);
        const first = await chunks.next();
        if (first.done) {
          throw new UpstreamError(`upstream ${upstream.name} ended the stream before its first event`, {
            code: 'upstream_empty_stream',
          });
        }
        attempt.firstByte();
        return { upstream, first: first.value, chunks, response };
      });
      try {
        let usage: Usage | null = null;
        let text = '';
        let finished = false;
        let last: Json = opened.first;
        let item: Json = opened.first;
        while (true) {
          usage = extractUsage(item) ?? usage;
          finished ||= hasFinish(item);
          last = item;
          if (hasChoices(item)) {
            const { usage: _dropped, ...chunk } = item;
            const piece = textOf(chunk);
            text += piece;
            yield { kind: 'chunk', chunk: { ...chunk, model: body.model } as TChunk, text: piece, tokens: null };
          }
          const next = await opened.chunks.next();
          if (next.done) {
            if (next.value === 'eof' && !finished) {
              throw new UpstreamError(`upstream ${opened.upstream.name} closed the stream before it finished`, {
                code: 'upstream_truncated_stream',
              });
            }
            break;
          }
          item = next.value;
        }
        const final: Usage = usage ?? {
          promptTokens: promptEstimate,
          completionTokens: estimateTokens(text),
          estimated: true,
        };
        const usageChunk = {
          id: last.id,
          object: last.object,
          created: last.created,
          model: body.model,
          choices: [],
          usage: toOpenAiUsage(final),
        } as TChunk;
        yield { kind: 'end', chunk: usageChunk, usage: final };
      } finally {
        opened.response.body.destroy();
      }
    }

    return await startStream<TChunk>({
      events: events(),
      promptTokens: promptEstimate,
      promptEstimated: true,
      cancel: () => call.abort(new Error('stream cancelled')),
      signal: options?.signal,
    });
  }

  /** The upstream's usage; the estimate, computed only when the upstream reported none. */
  function completedUsage(response: Json, promptEstimate: () => number, text: () => string): Usage {
    return (
      extractUsage(response) ?? {
        promptTokens: promptEstimate(),
        completionTokens: estimateTokens(text()),
        estimated: true,
      }
    );
  }

  async function healthOf(upstream: OpenAiUpstreamConfig): Promise<{ ok: boolean; line: string }> {
    const startedAt = deps.now();
    try {
      const response = await request(joinUrl(upstream.baseUrl, 'models'), {
        method: 'GET',
        headers: upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {},
        signal: AbortSignal.timeout(providerLimits.healthCheckTimeoutMs),
        dispatcher,
      });
      await response.body.dump();
      const ok = response.statusCode === 200;
      return { ok, line: `${upstream.name}: ${ok ? 'ok' : response.statusCode} (${deps.now() - startedAt} ms)` };
    } catch (error) {
      return { ok: false, line: `${upstream.name}: ${failureFromError(upstream.name, error).error.message}` };
    }
  }

  return {
    id: config.id,
    kind: 'openai',
    priority: config.priority ?? 0,

    listModels(): readonly ModelInfo[] {
      return models;
    },

    async chat(request, options): Promise<Completed<ChatCompletion>> {
      const { stream_options: _ignored, ...body } = request;
      const json = await callJson('chat/completions', { ...body, stream: false }, options);
      const usage = completedUsage(
        json,
        () => estimateChatPromptTokens(request.messages),
        () => chatText(json),
      );
      return { usage, response: { ...json, model: request.model, usage: toOpenAiUsage(usage) } as ChatCompletion };
    },

    streamChat(request, options): Promise<ProviderStream<ChatCompletionChunk>> {
      return openStream('chat/completions', request, options, chatText, estimateChatPromptTokens(request.messages));
    },

    async complete(request, options): Promise<Completed<Completion>> {
      const { stream_options: _ignored, ...body } = request;
      const json = await callJson('completions', { ...body, stream: false }, options);
      const usage = completedUsage(
        json,
        () => estimatePromptTokens(request.prompt),
        () => completionText(json),
      );
      return { usage, response: { ...json, model: request.model, usage: toOpenAiUsage(usage) } as Completion };
    },

    streamCompletion(request, options): Promise<ProviderStream<CompletionChunk>> {
      return openStream('completions', request, options, completionText, estimatePromptTokens(request.prompt));
    },

    async embed(request: EmbeddingRequest, options): Promise<Completed<EmbeddingResponse>> {
      const json = await callJson('embeddings', request, options);
      const usage = extractUsage(json) ?? {
        promptTokens: estimatePromptTokens(request.input),
        completionTokens: 0,
        estimated: true,
      };
      return {
        usage,
        response: {
          ...(json as unknown as EmbeddingResponse),
          model: request.model,
          usage: { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens },
        },
      };
    },

    async generateImages(request: ImageGenerationRequest, options) {
      const json = await callJson('images/generations', { ...request }, options);
      const data = json.data;
      if (!Array.isArray(data) || !data.every((item) => typeof item === 'object' && item !== null)) {
        throw new UpstreamError('upstream answered images/generations without a data list', {
          code: 'upstream_bad_body',
        });
      }
      return { response: json as unknown as ImageGenerationResponse, images: data.length };
    },

    /** The audio as the upstream sent it; headers are its first byte, and the body is read within the attempt. */
    async speech(request: SpeechRequest, options): Promise<SpeechAudio> {
      const call = new Call(options, timeouts.totalMs);
      try {
        return await withFailover(call, async (upstream, attempt) => {
          const response = await send(upstream, 'audio/speech', mapRequest(upstream, request), call, attempt);
          attempt.firstByte();
          const audio = new Uint8Array(await response.body.arrayBuffer());
          const contentType = headerValue(response.headers['content-type']) ?? 'application/octet-stream';
          return { audio, contentType };
        });
      } finally {
        call.dispose();
      }
    },

    async healthCheck(): Promise<HealthReport> {
      const startedAt = deps.now();
      const reports = await Promise.all(config.upstreams.map(healthOf));
      return {
        ok: reports.some((report) => report.ok),
        latencyMs: deps.now() - startedAt,
        detail: reports.map((report) => report.line).join('; '),
      };
    },

    async close() {
      await ownDispatcher?.close();
    },
  };
}
