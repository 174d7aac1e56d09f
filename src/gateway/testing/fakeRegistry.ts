/**
 * A provider registry for in-process unit tests: one fake text model (`fake-text`, every capability), one
 * embedding-only model (`fake-embed`) and one unpriced model (`fake-unpriced`). It answers instantly with fixed
 * usage: 7 prompt tokens and min(max_tokens, 5) completion tokens.
 */

import { NotFoundError } from '../../core/errors.ts';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  ModelInfo,
  Provider,
  ProviderRegistry,
  ProviderStream,
  Usage,
} from '../providers/index.ts';

export const fakeModels = {
  text: 'fake-text',
  embed: 'fake-embed',
  unpriced: 'fake-unpriced',
} as const;

const models: ModelInfo[] = [
  { id: fakeModels.text, ownedBy: 'test', capabilities: ['chat', 'completion', 'embedding'], contextLength: 4096 },
  { id: fakeModels.embed, ownedBy: 'test', capabilities: ['embedding'], contextLength: 512 },
  { id: fakeModels.unpriced, ownedBy: 'test', capabilities: ['chat'], contextLength: 4096 },
];

function usageFor(maxTokens: number | null | undefined): Usage {
  return { promptTokens: 7, completionTokens: Math.min(maxTokens ?? 5, 5), estimated: false };
}

function chunks(model: string, usage: Usage): ChatCompletionChunk[] {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk' as const, created: 0, model };
  return [
    ...Array.from({ length: usage.completionTokens }, () => ({
      ...base,
      choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }],
    })),
    {
      ...base,
      choices: [],
      usage: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.promptTokens + usage.completionTokens,
      },
    },
  ];
}

function streamOf<T>(items: T[], usage: Usage): ProviderStream<T> {
  return {
    usage,
    async *[Symbol.asyncIterator]() {
      yield* items;
    },
  };
}

export const fakeProvider: Provider = {
  id: 'fake',
  kind: 'openai',
  priority: 0,
  listModels: () => models,
  async chat(request) {
    const usage = usageFor(request.max_tokens);
    const response: ChatCompletion = {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 0,
      model: request.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'x'.repeat(usage.completionTokens) },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: usage.completionTokens, total_tokens: 7 + usage.completionTokens },
    };
    return { response, usage };
  },
  async streamChat(request) {
    const usage = usageFor(request.max_tokens);
    return streamOf(chunks(request.model, usage), usage);
  },
  async complete(request) {
    const usage = usageFor(request.max_tokens);
    const response: Completion = {
      id: 'cmpl-fake',
      object: 'text_completion',
      created: 0,
      model: request.model,
      choices: [{ index: 0, text: 'x', finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 7, completion_tokens: usage.completionTokens, total_tokens: 7 + usage.completionTokens },
    };
    return { response, usage };
  },
  async streamCompletion() {
    throw new Error('not used');
  },
  async embed(request) {
    const inputs = typeof request.input === 'string' ? [request.input] : request.input;
    return {
      response: {
        object: 'list',
        model: request.model,
        data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.5, -0.25] })),
        usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length },
      },
      usage: { promptTokens: 3 * inputs.length, completionTokens: 0, estimated: false },
    };
  },
  healthCheck: async () => ({ ok: true, latencyMs: 0, detail: 'fake' }),
  close: async () => {},
};

export function fakeRegistry(): ProviderRegistry {
  return {
    providers: [fakeProvider],
    providersFor(modelId) {
      if (!models.some((model) => model.id === modelId)) {
        throw new NotFoundError(`model ${modelId} does not exist`, { code: 'model_not_found', param: 'model' });
      }
      return [fakeProvider];
    },
    listModels: () => models.map((model) => ({ ...model, providerId: 'fake' })),
    healthCheck: async () => ({ fake: { ok: true, latencyMs: 0, detail: 'fake' } }),
    close: async () => {},
  };
}

export const fakePriceBook = {
  versions: [
    {
      effectiveFromMs: 0,
      models: {
        [fakeModels.text]: { kind: 'text' as const, inputPer1M: 1_000_000_000n, outputPer1M: 4_000_000_000n },
        [fakeModels.embed]: { kind: 'embedding' as const, inputPer1M: 100_000_000n },
        'fake-image': { kind: 'image' as const, perImage: 40_000_000n },
      },
    },
  ],
};
