/** Embeddings from an in-process model, one input at a time on the model's queue. */
import { ClientClosedError, InvalidRequestError } from '../../../core/errors.ts';
import { providerLimits } from '../limits.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../openaiShapes.ts';
import type { CallOptions, Completed } from '../types.ts';
import { zeroUsage } from './llamaRun.ts';
import type { LoadedModel, ModelHost } from './modelHost.ts';

function inputsOf(request: EmbeddingRequest): string[] {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  if (inputs.length === 0 || inputs.length > providerLimits.embeddingInputsMax) {
    throw new InvalidRequestError(`input must hold 1 to ${providerLimits.embeddingInputsMax} strings`, {
      code: 'invalid_value',
      param: 'input',
    });
  }
  return inputs;
}

async function vectorsOf(loaded: LoadedModel, inputs: string[], signal: AbortSignal | undefined) {
  const context = await loaded.embeddingContext();
  const results: Array<{ vector: number[]; tokens: number; seconds: number }> = [];
  for (const [index, input] of inputs.entries()) {
    if (signal?.aborted) {
      throw new ClientClosedError('client closed the request', { code: 'client_closed', delivered: zeroUsage });
    }
    const tokens = context.calculateInputLength(input);
    if (tokens > loaded.contextSize) {
      throw new InvalidRequestError(`input ${index} is ${tokens} tokens; the context is ${loaded.contextSize}`, {
        code: 'context_length_exceeded',
        param: `input[${index}]`,
      });
    }
    const started = performance.now();
    const embedding = await context.getEmbeddingFor(input);
    results.push({ vector: [...embedding.vector], tokens, seconds: (performance.now() - started) / 1000 });
  }
  return results;
}

export async function embed(
  host: ModelHost,
  request: EmbeddingRequest,
  options: CallOptions | undefined,
): Promise<Completed<EmbeddingResponse>> {
  const inputs = inputsOf(request);
  const loaded = await host.load();
  const vectors = await host.queue.run(() => vectorsOf(loaded, inputs, options?.signal), options?.signal);
  const promptTokens = vectors.reduce((total, item) => total + item.tokens, 0);
  const seconds = vectors.reduce((total, item) => total + item.seconds, 0);
  return {
    usage: { promptTokens, completionTokens: 0, estimated: false },
    // An embedding is one prompt evaluation: all of its time is prefill.
    engine: { prefillTokens: promptTokens, prefillSeconds: seconds, decodeTokens: 0, decodeSeconds: 0 },
    response: {
      object: 'list',
      model: request.model,
      data: vectors.map((item, index) => ({ object: 'embedding', index, embedding: item.vector })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
  };
}
