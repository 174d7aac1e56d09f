/**
 * Measures every provider call for the compute meter. Where the adapter reports its engine's own timing
 * (`Completed.engine`, `ProviderStream.engine`: the in-process llama provider), that is recorded as it is. Otherwise
 * (OpenAI-compatible upstreams) the gateway can only watch from outside, and these are estimates:
 * - a stream's prefill is the time to its first token, which also holds the network round trip and any queueing at
 *   the upstream, so it reads high; its decode rate is the time between the first and the last token over the tokens
 *   between them, which holds the network's jitter but not its latency;
 * - a non-streaming answer's total time is split into prefill and decode in the proportion of the same (model,
 *   provider)'s stream estimates, and is not used until those exist;
 * - embeddings and images are timed whole (request to response), per input token and per image.
 */

import type { ProviderRegistry } from '../providers/registry.ts';
import type { Completed, EngineTiming, Provider, ProviderStream, Usage } from '../providers/types.ts';
import type { ComputeMeter } from './computeMeter.ts';
import type { EngineSample } from './engineSample.ts';
import { sampleOf } from './engineSample.ts';

/** A monotonic clock in milliseconds (performance.now). */
export type Stopwatch = () => number;

type Recorder = Pick<ComputeMeter, 'record' | 'recordWhole'>;

function timedStream<TChunk>(
  inner: ProviderStream<TChunk>,
  stopwatch: Stopwatch,
  done: (
    stream: ProviderStream<TChunk>,
    watched: { firstMs: number; firstTokens: number; lastMs: number } | null,
  ) => void,
): ProviderStream<TChunk> {
  let watched: { firstMs: number; firstTokens: number; lastMs: number } | null = null;
  let tokens = 0;
  const observe = () => {
    const delivered = inner.usage.completionTokens;
    if (delivered <= tokens) return;
    tokens = delivered;
    const now = stopwatch();
    if (watched === null) watched = { firstMs: now, firstTokens: delivered, lastMs: now };
    else watched.lastMs = now;
  };
  return {
    get usage() {
      return inner.usage;
    },
    get engine() {
      return inner.engine;
    },
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of inner) {
          observe();
          yield chunk;
        }
      } finally {
        done(inner, watched);
      }
    },
  };
}

function timedProvider(provider: Provider, meter: Recorder, stopwatch: Stopwatch): Provider {
  const id = provider.id;
  const secondsSince = (startedMs: number) => (stopwatch() - startedMs) / 1000;
  const exact = (model: string, kind: EngineSample['kind'], engine: EngineTiming) =>
    meter.record(sampleOf(model, id, kind, engine));
  const whole = (model: string, usage: Usage, seconds: number) =>
    meter.recordWhole({
      model,
      provider: id,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      seconds,
    });

  async function text<T>(model: string, call: () => Promise<Completed<T>>): Promise<Completed<T>> {
    const startedMs = stopwatch();
    const result = await call();
    if (result.engine) exact(model, 'text', result.engine);
    else if (!provider.reportsEngineTiming) whole(model, result.usage, secondsSince(startedMs));
    return result;
  }

  async function stream<T>(model: string, call: () => Promise<ProviderStream<T>>): Promise<ProviderStream<T>> {
    const startedMs = stopwatch();
    const inner = await call();
    return timedStream(inner, stopwatch, (ended, watched) => {
      if (ended.engine) return exact(model, 'text', ended.engine);
      if (watched === null || provider.reportsEngineTiming) return;
      meter.record(
        sampleOf(model, id, 'text', {
          prefillTokens: ended.usage.promptTokens,
          prefillSeconds: (watched.firstMs - startedMs) / 1000,
          decodeTokens: ended.usage.completionTokens - watched.firstTokens,
          decodeSeconds: (watched.lastMs - watched.firstMs) / 1000,
        }),
      );
    });
  }

  return {
    id,
    kind: provider.kind,
    priority: provider.priority,
    ...(provider.computeRate ? { computeRate: provider.computeRate } : {}),
    ...(provider.reportsEngineTiming ? { reportsEngineTiming: true } : {}),
    listModels: () => provider.listModels(),
    chat: (request, options) => text(request.model, () => provider.chat(request, options)),
    complete: (request, options) => text(request.model, () => provider.complete(request, options)),
    streamChat: (request, options) => stream(request.model, () => provider.streamChat(request, options)),
    streamCompletion: (request, options) => stream(request.model, () => provider.streamCompletion(request, options)),
    async embed(request, options) {
      const startedMs = stopwatch();
      const result = await provider.embed(request, options);
      if (!result.engine && provider.reportsEngineTiming) return result;
      const engine = result.engine ?? {
        prefillTokens: result.usage.promptTokens,
        prefillSeconds: secondsSince(startedMs),
        decodeTokens: 0,
        decodeSeconds: 0,
      };
      exact(request.model, 'embedding', engine);
      return result;
    },
    ...(provider.generateImages
      ? {
          async generateImages(request, options) {
            const startedMs = stopwatch();
            const result = await provider.generateImages!(request, options);
            meter.record(
              sampleOf(request.model, id, 'image', { images: result.images, imageSeconds: secondsSince(startedMs) }),
            );
            return result;
          },
        }
      : {}),
    ...(provider.speech ? { speech: (request, options) => provider.speech!(request, options) } : {}),
    healthCheck: (options) => provider.healthCheck(options),
    close: () => provider.close(),
  } satisfies Provider;
}

/** `registry` with every provider measured for `meter`. */
export function withComputeTiming(registry: ProviderRegistry, meter: Recorder, stopwatch: Stopwatch): ProviderRegistry {
  const timed = new Map(registry.providers.map((provider) => [provider, timedProvider(provider, meter, stopwatch)]));
  const timedOf = (provider: Provider) => timed.get(provider) ?? provider;
  return {
    providers: registry.providers.map(timedOf),
    providersFor: (modelId) => registry.providersFor(modelId).map(timedOf),
    listModels: () => registry.listModels(),
    healthCheck: () => registry.healthCheck(),
    close: () => registry.close(),
  };
}
