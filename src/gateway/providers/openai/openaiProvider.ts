/**
 * The `openai` provider: any OpenAI-compatible base URL (vLLM, SGLang, llama.cpp server, Ollama, OpenAI,
 * OpenRouter, Venice). Upstreams are tried in order, with retries, but only before the first byte: once a stream
 * has produced its first event it belongs to that upstream, and a later failure is a `StreamInterruptedError`
 * carrying what was delivered. HTTP is in `transport.ts`, failover in `failover.ts`, stream relaying in
 * `upstreamStream.ts`; this file maps each OpenAI route to them.
 */
import { Agent, type Dispatcher } from 'undici';
import { type ComputeRate, computeRateOf } from '../../../core/computeUnits.ts';
import { UpstreamError } from '../../../core/errors.ts';
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
import { type Attempt, Call } from './call.ts';
import { type OpenAiProviderConfig, type OpenAiUpstreamConfig, upstreamModelId } from './config.ts';
import { type FailoverPolicy, withFailover } from './failover.ts';
import { headerValue, type Json, Transport } from './transport.ts';
import { chatText, completionText, relayEvents, upstreamChunks } from './upstreamStream.ts';
import { extractUsage } from './usage.ts';

export type { OpenAiProviderConfig };

export interface OpenAiProviderDeps {
  /** Wall clock in ms, for latencies. */
  now: () => number;
  /** HTTP connection pool; by default the provider makes (and closes) its own, with the connect timeout. */
  dispatcher?: Dispatcher;
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

/**
 * The usage object the client sees: the upstream's own, as it sent it (with OpenAI's fields filled in where it left
 * them out), or the estimate when it sent none.
 */
function clientUsage(response: Json, usage: Usage): unknown {
  return usage.estimated ? toOpenAiUsage(usage) : { ...toOpenAiUsage(usage), ...(response.usage as Json) };
}

class OpenAiProvider implements Provider {
  readonly id: string;
  readonly kind = 'openai' as const;
  readonly priority: number;
  readonly computeRate: ComputeRate;
  readonly #config: OpenAiProviderConfig;
  readonly #deps: OpenAiProviderDeps;
  readonly #policy: FailoverPolicy;
  /** Built once: validation looks a model up here on every request. */
  readonly #models: readonly ModelInfo[];
  readonly #ownDispatcher: Agent | null;
  readonly #transport: Transport;

  constructor(config: OpenAiProviderConfig, deps: OpenAiProviderDeps) {
    this.id = config.id;
    this.priority = config.priority ?? 0;
    this.computeRate = computeRateOf(config.computeRate);
    this.#config = config;
    this.#deps = deps;
    const timeouts = {
      connectMs: config.timeouts?.connectMs ?? providerLimits.connectTimeoutMs,
      firstByteMs: config.timeouts?.firstByteMs ?? providerLimits.firstByteTimeoutMs,
      totalMs: config.timeouts?.totalMs ?? providerLimits.upstreamTimeoutMs,
    };
    this.#policy = {
      upstreams: config.upstreams,
      retries: config.retries ?? providerLimits.upstreamRetriesMax,
      timeouts,
    };
    this.#models = config.models.map((model) => ({
      id: model.id,
      ownedBy: model.ownedBy ?? config.id,
      capabilities: model.capabilities ?? ['chat', 'completion'],
      contextLength: model.contextLength ?? null,
    }));
    this.#ownDispatcher =
      deps.dispatcher === undefined
        ? new Agent({
            connect: { timeout: timeouts.connectMs },
            headersTimeout: timeouts.firstByteMs,
            bodyTimeout: timeouts.firstByteMs,
          })
        : null;
    this.#transport = new Transport(config.upstreams, deps.dispatcher ?? (this.#ownDispatcher as Agent));
  }

  #mapRequest<T extends { model: string }>(upstream: OpenAiUpstreamConfig, body: T): Json {
    return { ...body, model: upstreamModelId(this.#config, upstream, body.model) };
  }

  /** Runs `open` under one call (deadline, cancellation) across the upstreams, and releases the call after. */
  async #withCall<T>(
    options: CallOptions | undefined,
    open: (upstream: OpenAiUpstreamConfig, call: Call, attempt: Attempt) => Promise<T>,
  ): Promise<T> {
    const call = new Call(options, this.#policy.timeouts.totalMs);
    try {
      return await withFailover(call, this.#policy, (upstream, attempt) => open(upstream, call, attempt));
    } finally {
      call.dispose();
    }
  }

  #callJson(path: string, body: { model: string; [field: string]: unknown }, options: CallOptions | undefined) {
    return this.#withCall(options, async (upstream, call, attempt) => {
      const parsed = await this.#transport.sendForJson(upstream, path, this.#mapRequest(upstream, body), call, attempt);
      if (typeof parsed !== 'object' || parsed === null) {
        throw new UpstreamError(`upstream ${upstream.name} answered with a non-object`, { code: 'upstream_bad_body' });
      }
      return parsed as Json;
    });
  }

  async #openStream<TChunk>(
    path: string,
    body: ChatCompletionRequest | CompletionRequest,
    options: CallOptions | undefined,
    textOf: (chunk: Json) => string,
    promptEstimate: number,
  ): Promise<ProviderStream<TChunk>> {
    const call = new Call(options, this.#policy.timeouts.totalMs);
    const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };
    const open = () =>
      withFailover(call, this.#policy, async (upstream, attempt) => {
        const response = await this.#transport.send(
          upstream,
          path,
          this.#mapRequest(upstream, streamBody),
          call,
          attempt,
        );
        const chunks = upstreamChunks(response.body, upstream.name);
        const first = await chunks.next();
        if (first.done) {
          throw new UpstreamError(`upstream ${upstream.name} ended the stream before its first event`, {
            code: 'upstream_empty_stream',
          });
        }
        attempt.firstByte();
        return { opened: { upstream: upstream.name, first: first.value, chunks }, response };
      });
    async function* events(): AsyncGenerator<StreamEvent<TChunk>> {
      try {
        const { opened, response } = await open();
        try {
          yield* relayEvents<TChunk>(opened, { model: body.model, textOf, promptEstimate });
        } finally {
          response.body.destroy();
        }
      } finally {
        call.dispose();
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

  listModels(): readonly ModelInfo[] {
    return this.#models;
  }

  async chat(request: ChatCompletionRequest, options?: CallOptions): Promise<Completed<ChatCompletion>> {
    const { stream_options: _ignored, ...body } = request;
    const json = await this.#callJson('chat/completions', { ...body, stream: false }, options);
    const usage = completedUsage(
      json,
      () => estimateChatPromptTokens(request.messages),
      () => chatText(json),
    );
    return { usage, response: { ...json, model: request.model, usage: clientUsage(json, usage) } as ChatCompletion };
  }

  streamChat(request: ChatCompletionRequest, options?: CallOptions): Promise<ProviderStream<ChatCompletionChunk>> {
    return this.#openStream('chat/completions', request, options, chatText, estimateChatPromptTokens(request.messages));
  }

  async complete(request: CompletionRequest, options?: CallOptions): Promise<Completed<Completion>> {
    const { stream_options: _ignored, ...body } = request;
    const json = await this.#callJson('completions', { ...body, stream: false }, options);
    const usage = completedUsage(
      json,
      () => estimatePromptTokens(request.prompt),
      () => completionText(json),
    );
    return { usage, response: { ...json, model: request.model, usage: clientUsage(json, usage) } as Completion };
  }

  streamCompletion(request: CompletionRequest, options?: CallOptions): Promise<ProviderStream<CompletionChunk>> {
    return this.#openStream('completions', request, options, completionText, estimatePromptTokens(request.prompt));
  }

  async embed(request: EmbeddingRequest, options?: CallOptions): Promise<Completed<EmbeddingResponse>> {
    const json = await this.#callJson('embeddings', { ...request }, options);
    const usage = extractUsage(json) ?? {
      promptTokens: estimatePromptTokens(request.input),
      completionTokens: 0,
      estimated: true,
    };
    const response = json as unknown as EmbeddingResponse;
    const counted = { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens };
    return { usage, response: { ...response, model: request.model, usage: counted } };
  }

  async generateImages(
    request: ImageGenerationRequest,
    options?: CallOptions,
  ): Promise<{ response: ImageGenerationResponse; images: number }> {
    const json = await this.#callJson('images/generations', { ...request }, options);
    const data = json.data;
    if (!Array.isArray(data) || !data.every((item) => typeof item === 'object' && item !== null)) {
      throw new UpstreamError('upstream answered images/generations without a data list', {
        code: 'upstream_bad_body',
      });
    }
    return { response: json as unknown as ImageGenerationResponse, images: data.length };
  }

  /** The audio as the upstream sent it; headers are its first byte, and the body is read within the attempt. */
  speech(request: SpeechRequest, options?: CallOptions): Promise<SpeechAudio> {
    return this.#withCall(options, async (upstream, call, attempt) => {
      const response = await this.#transport.send(
        upstream,
        'audio/speech',
        this.#mapRequest(upstream, request),
        call,
        attempt,
      );
      attempt.firstByte();
      const audio = new Uint8Array(await response.body.arrayBuffer());
      return { audio, contentType: headerValue(response.headers['content-type']) ?? 'application/octet-stream' };
    });
  }

  async healthCheck(): Promise<HealthReport> {
    const startedAt = this.#deps.now();
    const reports = await Promise.all(
      this.#config.upstreams.map((upstream) => this.#transport.health(upstream, this.#deps.now)),
    );
    return {
      ok: reports.some((report) => report.ok),
      latencyMs: this.#deps.now() - startedAt,
      detail: reports.map((report) => report.line).join('; '),
    };
  }

  async close(): Promise<void> {
    await this.#ownDispatcher?.close();
  }
}

export function createOpenAiProvider(config: OpenAiProviderConfig, deps: OpenAiProviderDeps): Provider {
  return new OpenAiProvider(config, deps);
}
