/**
 * The provider contract: what the gateway calls to run a request on a backend. Every adapter (in-process llama,
 * any OpenAI-compatible upstream) implements `Provider`.
 *
 * Errors are always `PerdiemError`s from `src/core/errors.ts`:
 * - before the first chunk: `InvalidRequestError` 400, `NotFoundError` 404 (unknown model), `UpstreamError` 502,
 *   `UnavailableError` 503 (down, or queue full), `UpstreamTimeoutError` 504; nothing was delivered, charge nothing.
 * - after the first chunk: `StreamInterruptedError` 502, or `ClientClosedError` 499 when the caller's signal fired;
 *   both carry `delivered`, the only usage that may be charged.
 */
import type { ComputeRate } from '../../core/computeUnits.ts';
import type { TokenUsage } from '../../core/errors.ts';
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
  OpenAiUsage,
} from './openaiShapes.ts';

export type * from './openaiShapes.ts';

/** Token counts from the engine or the upstream; `estimated` when the upstream gave none. */
export type Usage = TokenUsage;

export interface CallOptions {
  /** Fires when the client disconnects or the gateway gives up: the upstream request or generation is aborted. */
  signal?: AbortSignal;
  /** Propagated upstream as `x-request-id` and used as the response id where the adapter makes one. */
  requestId?: string;
}

/**
 * What a request cost the engine, from the engine itself (the in-process provider): prompt tokens evaluated and the
 * seconds that took, output tokens generated and the seconds those took. Adapters that cannot see their engine
 * leave it out; the gateway then estimates from the outside (gateway/compute/timedProvider.ts).
 */
export interface EngineTiming {
  prefillTokens: number;
  prefillSeconds: number;
  decodeTokens: number;
  decodeSeconds: number;
}

/** A non-streaming result: the OpenAI response (model = the public id) and the usage to charge. */
export interface Completed<TResponse> {
  response: TResponse;
  usage: Usage;
  /** The engine's own timing, when the adapter has it. */
  engine?: EngineTiming;
}

/**
 * A started stream. The promise that returns it resolves only once the first chunk is ready, so every failure
 * before that (including failover) is an ordinary rejection and the gateway can still answer with a status code.
 *
 * Iterate it once. The last chunk carries OpenAI `usage` (with empty `choices`, as with `include_usage`); drop it
 * if the client did not ask for usage. Breaking out of the loop aborts the upstream. `usage` is what was delivered
 * so far and is final once iteration has ended, however it ended.
 */
export interface ProviderStream<TChunk> extends AsyncIterable<TChunk> {
  readonly usage: Usage;
  /** The engine's own timing once the stream has ended, when the adapter has it. */
  readonly engine?: EngineTiming | undefined;
}

export type Capability = 'chat' | 'completion' | 'embedding' | 'image' | 'speech';

export interface ModelInfo {
  /** Public id, as clients name it. */
  id: string;
  ownedBy: string;
  capabilities: readonly Capability[];
  /** Tokens of context, when known. */
  contextLength: number | null;
}

export interface HealthReport {
  ok: boolean;
  latencyMs: number;
  /** One line for operators: why it is not ok, or what answered. */
  detail: string;
}

export interface Provider {
  readonly id: string;
  readonly kind: ProviderKind;
  /** Lower runs first when two providers serve the same public model. */
  readonly priority: number;
  /** How one second of this provider's engine compares to the reference, and its cost; default the reference. */
  readonly computeRate?: ComputeRate;
  /**
   * Set when the adapter reports its engine's own timing (`engine`) with every finished result: the gateway then
   * never estimates from outside for it (a stream cut short has no timing, and is not measured).
   */
  readonly reportsEngineTiming?: boolean;
  listModels(): readonly ModelInfo[];
  chat(request: ChatCompletionRequest, options?: CallOptions): Promise<Completed<ChatCompletion>>;
  streamChat(request: ChatCompletionRequest, options?: CallOptions): Promise<ProviderStream<ChatCompletionChunk>>;
  complete(request: CompletionRequest, options?: CallOptions): Promise<Completed<Completion>>;
  streamCompletion(request: CompletionRequest, options?: CallOptions): Promise<ProviderStream<CompletionChunk>>;
  embed(request: EmbeddingRequest, options?: CallOptions): Promise<Completed<EmbeddingResponse>>;
  /**
   * Image generation, by providers whose models declare the `image` capability (only `openai` upstreams: nothing
   * in process draws). `images` is how many the upstream returned: what is charged.
   */
  generateImages?(
    request: ImageGenerationRequest,
    options?: CallOptions,
  ): Promise<{ response: ImageGenerationResponse; images: number }>;
  /**
   * Text to speech, by providers whose models declare the `speech` capability (only `openai` upstreams): the audio
   * bytes and their content type, as the upstream sent them.
   */
  speech?(request: SpeechRequest, options?: CallOptions): Promise<SpeechAudio>;
  healthCheck(options?: CallOptions): Promise<HealthReport>;
  /** Releases models, contexts and connections. */
  close(): Promise<void>;
}

export type ProviderKind = 'llama' | 'openai';

/** OpenAI's audio/speech request. */
export interface SpeechRequest {
  model: string;
  input: string;
  voice: string;
  instructions?: string;
  response_format?: 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm';
  speed?: number;
}

export interface SpeechAudio {
  audio: Uint8Array;
  contentType: string;
}

/** OpenAI's usage object: the totals, and the cache and reasoning parts of them when the upstream reported any. */
export function toOpenAiUsage(usage: Usage): OpenAiUsage {
  const out: OpenAiUsage = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  if (usage.cachedPromptTokens !== undefined || usage.cacheWritePromptTokens !== undefined) {
    out.prompt_tokens_details = {
      cached_tokens: usage.cachedPromptTokens ?? 0,
      ...(usage.cacheWritePromptTokens === undefined ? {} : { cache_write_tokens: usage.cacheWritePromptTokens }),
    };
  }
  if (usage.reasoningTokens !== undefined) {
    out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  }
  return out;
}

/** The effective max tokens: the smaller of `max_tokens` and `max_completion_tokens`, or null when neither is set. */
export function requestedMaxTokens(request: ChatCompletionRequest | CompletionRequest): number | null {
  const limits = [request.max_tokens, request.max_completion_tokens].filter(
    (value): value is number => typeof value === 'number',
  );
  return limits.length === 0 ? null : Math.min(...limits);
}

export function stopSequences(stop: string | string[] | null | undefined): string[] {
  if (stop == null) return [];
  return (typeof stop === 'string' ? [stop] : stop).filter((sequence) => sequence.length > 0);
}
