/**
 * The `llama` provider: GGUF models in process through node-llama-cpp. Each model is loaded on first use, runs one
 * request at a time on `threads` threads (1 by default) and queues the rest up to `queueLengthMax`.
 */
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import type { Llama } from 'node-llama-cpp';
import {
  ClientClosedError,
  InvalidRequestError,
  NotFoundError,
  PerdiemError,
  UpstreamError,
} from '../../../core/errors.ts';
import { createChannel } from '../channel.ts';
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
  FinishReason,
} from '../openaiShapes.ts';
import { type StreamEvent, startStream } from '../stream.ts';
import {
  type CallOptions,
  type Completed,
  type HealthReport,
  type ModelInfo,
  type Provider,
  type ProviderStream,
  requestedMaxTokens,
  stopSequences,
  toOpenAiUsage,
  type Usage,
} from '../types.ts';
import { buildChatPrompt } from './chatPrompt.ts';
import {
  assertFitsContext,
  type GenerationInput,
  type GenerationResult,
  generate,
  promptTokenCount,
} from './generate.ts';
import { createModelHost, type LlamaModelConfig, type LoadedModel, type ModelHost } from './modelHost.ts';

export type { LlamaModelConfig };

export interface LlamaProviderConfig {
  kind: 'llama';
  id: string;
  models: LlamaModelConfig[];
  /** Lower runs first when two providers serve the same model. Default 0. */
  priority?: number;
  /** llama.cpp threads per model. Default `llamaThreadCount` (1): more is far slower on small shared machines. */
  threads?: number;
  /** Requests waiting per model beyond the one running. Default `queueLengthMax`. */
  queueLengthMax?: number;
}

export interface LlamaProviderDeps {
  /** The llama.cpp runtime, loaded on first use (see `loadLlamaRuntime`). */
  llama: () => Promise<Llama>;
  /** Wall clock in ms, for `created` fields. */
  now: () => number;
}

interface Prepared {
  loaded: LoadedModel;
  input: Omit<GenerationInput, 'signal' | 'onText'>;
}

type Kind = 'chat' | 'completion';

const zeroUsage: Usage = { promptTokens: 0, completionTokens: 0, estimated: false };

function samplingOf(request: ChatCompletionRequest | CompletionRequest) {
  const temperature = request.temperature ?? 1;
  const topP = request.top_p ?? 1;
  if (temperature < 0 || temperature > 2) {
    throw new InvalidRequestError('temperature must be between 0 and 2', {
      code: 'invalid_value',
      param: 'temperature',
    });
  }
  if (topP <= 0 || topP > 1) {
    throw new InvalidRequestError('top_p must be in (0, 1]', { code: 'invalid_value', param: 'top_p' });
  }
  const maxTokens = requestedMaxTokens(request);
  if (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new InvalidRequestError('max_tokens must be a positive integer', {
      code: 'invalid_value',
      param: 'max_tokens',
    });
  }
  return { temperature, topP, maxTokens, seed: request.seed ?? null, stop: stopSequences(request.stop) };
}

function completionPrompt(request: CompletionRequest): string {
  if (typeof request.prompt === 'string') return request.prompt;
  if (request.prompt.length === 1 && typeof request.prompt[0] === 'string') return request.prompt[0];
  throw new InvalidRequestError('this model takes one prompt per request', { code: 'invalid_value', param: 'prompt' });
}

/** Engine failures that are not ours to type become a 502; typed errors pass through. */
function engineError(error: unknown): PerdiemError {
  if (error instanceof PerdiemError) return error;
  return new UpstreamError('in-process generation failed', { code: 'engine_error', cause: error });
}

export function createLlamaProvider(config: LlamaProviderConfig, deps: LlamaProviderDeps): Provider {
  const settings = {
    threads: config.threads ?? providerLimits.llamaThreadCount,
    queueLengthMax: config.queueLengthMax ?? providerLimits.queueLengthMax,
  };
  const hosts = new Map<string, ModelHost>(
    config.models.map((model) => [model.id, createModelHost(deps.llama, model, settings)]),
  );

  const hostFor = (modelId: string): ModelHost => {
    const host = hosts.get(modelId);
    if (host === undefined) {
      throw new NotFoundError(`model ${modelId} is not served by provider ${config.id}`, {
        code: 'model_not_found',
        param: 'model',
      });
    }
    return host;
  };

  const created = () => Math.floor(deps.now() / 1000);
  const responseId = (prefix: string, options: CallOptions | undefined) =>
    `${prefix}-${options?.requestId ?? randomUUID()}`;

  async function prepare(kind: Kind, request: ChatCompletionRequest | CompletionRequest): Promise<Prepared> {
    const host = hostFor(request.model);
    const sampling = samplingOf(request);
    const loaded = await host.load();
    const base = {
      maxTokens: sampling.maxTokens,
      temperature: sampling.temperature,
      topP: sampling.topP,
      seed: sampling.seed,
    };
    if (kind === 'chat') {
      const chat = request as ChatCompletionRequest;
      const prompt = buildChatPrompt(loaded.model, chat.messages, host.config.chatTemplate ?? 'model');
      return {
        loaded,
        input: { ...base, tokens: prompt.tokens, stopTriggers: [...prompt.stopTriggers, ...sampling.stop] },
      };
    }
    const tokens = loaded.model.tokenize(completionPrompt(request as CompletionRequest));
    return { loaded, input: { ...base, tokens, stopTriggers: sampling.stop } };
  }

  async function run(
    kind: Kind,
    request: ChatCompletionRequest | CompletionRequest,
    options: CallOptions | undefined,
  ): Promise<GenerationResult> {
    const host = hostFor(request.model);
    const prepared = await prepare(kind, request);
    try {
      return await host.queue.run(
        () => generate(prepared.loaded, { ...prepared.input, signal: options?.signal }),
        options?.signal,
      );
    } catch (error) {
      if (options?.signal?.aborted && !(error instanceof ClientClosedError)) {
        // Nothing reached the client of a non-streaming request.
        throw new ClientClosedError('client closed the request', { code: 'client_closed', delivered: zeroUsage });
      }
      throw engineError(error);
    }
  }

  async function runStream<TChunk>(
    kind: Kind,
    request: ChatCompletionRequest | CompletionRequest,
    options: CallOptions | undefined,
    build: {
      first: () => TChunk | null;
      text: (text: string) => TChunk;
      finish: (reason: FinishReason) => TChunk;
      usage: (usage: Usage) => TChunk;
    },
  ): Promise<ProviderStream<TChunk>> {
    const host = hostFor(request.model);
    const prepared = await prepare(kind, request);
    const promptTokens = promptTokenCount(prepared.loaded, prepared.input.tokens);
    assertFitsContext(prepared.loaded, promptTokens);

    const stop = new AbortController();
    const signal = options?.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const channel = createChannel<StreamEvent<TChunk>>();
    let started = false;
    const onText = (text: string, tokens: number) => {
      if (!started) {
        started = true;
        const first = build.first();
        if (first !== null) channel.push({ kind: 'chunk', chunk: first, text: '', tokens: 0 });
      }
      channel.push({ kind: 'chunk', chunk: build.text(text), text, tokens });
    };
    host.queue
      .run(() => generate(prepared.loaded, { ...prepared.input, signal, onText }), signal)
      .then((result) => {
        if (!started) onText('', 0);
        const usage = engineUsage(result);
        channel.push({ kind: 'chunk', chunk: build.finish(result.finishReason), text: '', tokens: 0 });
        channel.push({ kind: 'end', chunk: build.usage(usage), usage });
        channel.close();
      })
      .catch((error: unknown) => channel.fail(engineError(error)));

    return startStream({
      events: channel.iterator,
      promptTokens,
      promptEstimated: false,
      cancel: () => stop.abort(new Error('stream cancelled')),
      signal: options?.signal,
    });
  }

  return {
    id: config.id,
    kind: 'llama',
    priority: config.priority ?? 0,

    listModels(): ModelInfo[] {
      return config.models.map((model) => ({
        id: model.id,
        ownedBy: model.ownedBy ?? config.id,
        capabilities: ['chat', 'completion', 'embedding'],
        contextLength: model.contextSize ?? null,
      }));
    },

    async chat(request, options): Promise<Completed<ChatCompletion>> {
      const result = await run('chat', request, options);
      const usage = engineUsage(result);
      return {
        usage,
        response: {
          id: responseId('chatcmpl', options),
          object: 'chat.completion',
          created: created(),
          model: request.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: result.text },
              finish_reason: result.finishReason,
              logprobs: null,
            },
          ],
          usage: toOpenAiUsage(usage),
        },
      };
    },

    streamChat(request, options): Promise<ProviderStream<ChatCompletionChunk>> {
      const id = responseId('chatcmpl', options);
      const stamp = created();
      const chunk = (
        choices: ChatCompletionChunk['choices'],
        usage: ChatCompletionChunk['usage'] = undefined,
      ): ChatCompletionChunk => ({
        id,
        object: 'chat.completion.chunk',
        created: stamp,
        model: request.model,
        choices,
        ...(usage === undefined ? {} : { usage }),
      });
      return runStream('chat', request, options, {
        first: () => chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
        text: (text) => chunk([{ index: 0, delta: { content: text }, finish_reason: null }]),
        finish: (reason) => chunk([{ index: 0, delta: {}, finish_reason: reason }]),
        usage: (usage) => chunk([], toOpenAiUsage(usage)),
      });
    },

    async complete(request, options): Promise<Completed<Completion>> {
      const result = await run('completion', request, options);
      const usage = engineUsage(result);
      return {
        usage,
        response: {
          id: responseId('cmpl', options),
          object: 'text_completion',
          created: created(),
          model: request.model,
          choices: [{ index: 0, text: result.text, finish_reason: result.finishReason, logprobs: null }],
          usage: toOpenAiUsage(usage),
        },
      };
    },

    streamCompletion(request, options): Promise<ProviderStream<CompletionChunk>> {
      const id = responseId('cmpl', options);
      const stamp = created();
      const chunk = (choices: CompletionChunk['choices'], usage?: CompletionChunk['usage']): CompletionChunk => ({
        id,
        object: 'text_completion',
        created: stamp,
        model: request.model,
        choices,
        ...(usage === undefined ? {} : { usage }),
      });
      return runStream('completion', request, options, {
        first: () => null,
        text: (text) => chunk([{ index: 0, text, finish_reason: null, logprobs: null }]),
        finish: (reason) => chunk([{ index: 0, text: '', finish_reason: reason, logprobs: null }]),
        usage: (usage) => chunk([], toOpenAiUsage(usage)),
      });
    },

    async embed(request: EmbeddingRequest, options): Promise<Completed<EmbeddingResponse>> {
      const host = hostFor(request.model);
      const inputs = typeof request.input === 'string' ? [request.input] : request.input;
      if (inputs.length === 0 || inputs.length > providerLimits.embeddingInputsMax) {
        throw new InvalidRequestError(`input must hold 1 to ${providerLimits.embeddingInputsMax} strings`, {
          code: 'invalid_value',
          param: 'input',
        });
      }
      const loaded = await host.load();
      const vectors = await host.queue.run(async () => {
        const context = await loaded.embeddingContext();
        const results: Array<{ vector: number[]; tokens: number }> = [];
        for (const [index, input] of inputs.entries()) {
          if (options?.signal?.aborted) {
            throw new ClientClosedError('client closed the request', { code: 'client_closed', delivered: zeroUsage });
          }
          const tokens = context.calculateInputLength(input);
          if (tokens > loaded.contextSize) {
            throw new InvalidRequestError(`input ${index} is ${tokens} tokens; the context is ${loaded.contextSize}`, {
              code: 'context_length_exceeded',
              param: `input[${index}]`,
            });
          }
          const embedding = await context.getEmbeddingFor(input);
          results.push({ vector: [...embedding.vector], tokens });
        }
        return results;
      }, options?.signal);
      const promptTokens = vectors.reduce((total, item) => total + item.tokens, 0);
      return {
        usage: { promptTokens, completionTokens: 0, estimated: false },
        response: {
          object: 'list',
          model: request.model,
          data: vectors.map((item, index) => ({ object: 'embedding', index, embedding: item.vector })),
          usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
        },
      };
    },

    async healthCheck(): Promise<HealthReport> {
      const startedAt = deps.now();
      const missing: string[] = [];
      for (const model of config.models) {
        await access(model.path).catch(() => missing.push(model.id));
      }
      const loadedCount = [...hosts.values()].filter((host) => host.loaded).length;
      return {
        ok: missing.length === 0,
        latencyMs: deps.now() - startedAt,
        detail:
          missing.length === 0
            ? `${config.models.length} models, ${loadedCount} loaded`
            : `model files missing: ${missing.join(', ')}`,
      };
    },

    async close() {
      await Promise.all([...hosts.values()].map((host) => host.dispose()));
    },
  };
}

/** The engine counts tokens itself: its usage is exact, never estimated. */
function engineUsage(result: { promptTokens: number; completionTokens: number }): Usage {
  return { promptTokens: result.promptTokens, completionTokens: result.completionTokens, estimated: false };
}
