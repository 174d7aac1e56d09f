/** The OpenAI-shaped answers of an in-process model: whole responses and stream chunks, chat and completion. */
import type { ChatCompletion, ChatCompletionChunk, Completion, CompletionChunk } from '../openaiShapes.ts';
import { type Completed, toOpenAiUsage } from '../types.ts';
import type { GenerationResult } from './generate.ts';
import { type ChunkBuilder, engineUsage } from './llamaRun.ts';

/** What every response and chunk of one request shares: its id, creation time (unix seconds) and model. */
export interface ResponseStamp {
  id: string;
  created: number;
  model: string;
}

export function chatResponse(stamp: ResponseStamp, result: GenerationResult): Completed<ChatCompletion> {
  const usage = engineUsage(result);
  return {
    usage,
    engine: result.engine,
    response: {
      id: stamp.id,
      object: 'chat.completion',
      created: stamp.created,
      model: stamp.model,
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
}

export function completionResponse(stamp: ResponseStamp, result: GenerationResult): Completed<Completion> {
  const usage = engineUsage(result);
  return {
    usage,
    engine: result.engine,
    response: {
      id: stamp.id,
      object: 'text_completion',
      created: stamp.created,
      model: stamp.model,
      choices: [{ index: 0, text: result.text, finish_reason: result.finishReason, logprobs: null }],
      usage: toOpenAiUsage(usage),
    },
  };
}

export function chatChunks(stamp: ResponseStamp): ChunkBuilder<ChatCompletionChunk> {
  const chunk = (
    choices: ChatCompletionChunk['choices'],
    usage: ChatCompletionChunk['usage'] = undefined,
  ): ChatCompletionChunk => ({
    id: stamp.id,
    object: 'chat.completion.chunk',
    created: stamp.created,
    model: stamp.model,
    choices,
    ...(usage === undefined ? {} : { usage }),
  });
  return {
    first: () => chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
    text: (text) => chunk([{ index: 0, delta: { content: text }, finish_reason: null }]),
    finish: (reason) => chunk([{ index: 0, delta: {}, finish_reason: reason }]),
    usage: (usage) => chunk([], toOpenAiUsage(usage)),
  };
}

export function completionChunks(stamp: ResponseStamp): ChunkBuilder<CompletionChunk> {
  const chunk = (choices: CompletionChunk['choices'], usage?: CompletionChunk['usage']): CompletionChunk => ({
    id: stamp.id,
    object: 'text_completion',
    created: stamp.created,
    model: stamp.model,
    choices,
    ...(usage === undefined ? {} : { usage }),
  });
  return {
    first: () => null,
    text: (text) => chunk([{ index: 0, text, finish_reason: null, logprobs: null }]),
    finish: (reason) => chunk([{ index: 0, text: '', finish_reason: reason, logprobs: null }]),
    usage: (usage) => chunk([], toOpenAiUsage(usage)),
  };
}
