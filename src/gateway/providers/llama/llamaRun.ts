/**
 * Running one request on an in-process model: the request checked and tokenized, then generated on the model's queue,
 * whole or as a stream. Engine failures become a 502; a client that went away is a ClientClosedError.
 */
import { ClientClosedError, InvalidRequestError, PerdiemError, UpstreamError } from '../../../core/errors.ts';
import { createChannel } from '../channel.ts';
import type { ChatCompletionRequest, CompletionRequest, FinishReason } from '../openaiShapes.ts';
import { type StreamEvent, startStream } from '../stream.ts';
import { type CallOptions, type ProviderStream, requestedMaxTokens, stopSequences, type Usage } from '../types.ts';
import { buildChatPrompt } from './chatPrompt.ts';
import {
  assertFitsContext,
  type GenerationInput,
  type GenerationResult,
  generate,
  promptTokenCount,
} from './generate.ts';
import type { LoadedModel, ModelHost } from './modelHost.ts';

interface Prepared {
  loaded: LoadedModel;
  input: Omit<GenerationInput, 'signal' | 'onText'>;
}

export type Kind = 'chat' | 'completion';

/** How a stream's chunks are made: the optional first (role) chunk, text, the finish and the final usage. */
export interface ChunkBuilder<TChunk> {
  first: () => TChunk | null;
  text: (text: string) => TChunk;
  finish: (reason: FinishReason) => TChunk;
  usage: (usage: Usage) => TChunk;
}

export const zeroUsage: Usage = { promptTokens: 0, completionTokens: 0, estimated: false };

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
export function engineError(error: unknown): PerdiemError {
  if (error instanceof PerdiemError) return error;
  return new UpstreamError('in-process generation failed', { code: 'engine_error', cause: error });
}

/** The engine counts tokens itself: its usage is exact, never estimated. */
export function engineUsage(result: { promptTokens: number; completionTokens: number }): Usage {
  return { promptTokens: result.promptTokens, completionTokens: result.completionTokens, estimated: false };
}

async function prepare(
  host: ModelHost,
  kind: Kind,
  request: ChatCompletionRequest | CompletionRequest,
): Promise<Prepared> {
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

/** Generates the whole answer. */
export async function run(
  host: ModelHost,
  kind: Kind,
  request: ChatCompletionRequest | CompletionRequest,
  options: CallOptions | undefined,
): Promise<GenerationResult> {
  const prepared = await prepare(host, kind, request);
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

/** Starts generating and returns the stream at once; the prompt is checked against the context first. */
export async function runStream<TChunk>(
  host: ModelHost,
  kind: Kind,
  request: ChatCompletionRequest | CompletionRequest,
  options: CallOptions | undefined,
  build: ChunkBuilder<TChunk>,
): Promise<ProviderStream<TChunk>> {
  const prepared = await prepare(host, kind, request);
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
      channel.push({ kind: 'end', chunk: build.usage(usage), usage, engine: result.engine });
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
