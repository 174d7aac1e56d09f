/**
 * The OpenAI wire shapes the provider layer speaks: requests as clients send them, responses and stream chunks as
 * clients receive them. Only the fields perdiem reads or writes are typed; upstream extras pass through untouched.
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export type ChatContentPart = { type: 'text'; text: string } | { type: string; [field: string]: unknown };

export interface ChatMessage {
  role: ChatRole;
  content: string | ChatContentPart[] | null;
  name?: string;
  [field: string]: unknown;
}

export interface SamplingParams {
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
}

export interface StreamOptions {
  include_usage?: boolean;
}

export interface ChatCompletionRequest extends SamplingParams {
  /** The public model id; providers map it to their own. */
  model: string;
  messages: ChatMessage[];
  /** The newer OpenAI name for max_tokens; when both are set, the smaller wins. */
  max_completion_tokens?: number | null;
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
  [field: string]: unknown;
}

export interface CompletionRequest extends SamplingParams {
  model: string;
  prompt: string | string[];
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
  [field: string]: unknown;
}

export interface EmbeddingRequest {
  model: string;
  input: string | string[];
  encoding_format?: 'float';
  [field: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; [field: string]: unknown };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: OpenAiUsage;
  [field: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  /** Empty in the final usage chunk. */
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string | null; [field: string]: unknown };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: OpenAiUsage | null;
  [field: string]: unknown;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Array<{ index: number; text: string; finish_reason: FinishReason | null; logprobs: unknown }>;
  usage?: OpenAiUsage;
  [field: string]: unknown;
}

/** A streamed completion chunk has the same shape as the completion itself. */
export type CompletionChunk = Completion;

export interface EmbeddingResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface ImageGenerationRequest {
  model: string;
  prompt: string;
  n?: number | null;
  size?: string | null;
  quality?: string | null;
  response_format?: 'url' | 'b64_json' | null;
  style?: string | null;
  user?: string;
}

export interface ImageGenerationResponse {
  created: number;
  data: Array<{ url?: string; b64_json?: string; revised_prompt?: string }>;
}

export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: 'list';
  data: ModelObject[];
}
