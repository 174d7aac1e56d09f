/**
 * The one place that turns a chunk source into a `ProviderStream`: it waits for the first chunk (so earlier
 * failures reject), meters what it hands to the caller, and turns any later failure into a typed error that
 * carries the delivered usage. Adapters only produce events.
 */
import { ClientClosedError, type PerdiemError, StreamInterruptedError, UpstreamError } from '../../core/errors.ts';
import { estimateTokens } from './estimate.ts';
import type { EngineTiming, ProviderStream, Usage } from './types.ts';

export type StreamEvent<TChunk> =
  /** `tokens` is the exact completion-token count of this chunk, or null when the source cannot know it. */
  | { kind: 'chunk'; chunk: TChunk; text: string; tokens: number | null }
  /** The last event: the engine's or upstream's final usage and the OpenAI usage chunk to forward. */
  | { kind: 'end'; chunk: TChunk; usage: Usage; engine?: EngineTiming };

export interface StreamSource<TChunk> {
  events: AsyncIterator<StreamEvent<TChunk>>;
  /** Exact prompt tokens, or an estimate when `promptEstimated`. */
  promptTokens: number;
  promptEstimated: boolean;
  /** Stops production upstream. Called when the consumer stops early or the stream fails. Idempotent. */
  cancel(): void;
  /** The caller's signal, to tell a client disconnect from an upstream failure. */
  signal: AbortSignal | undefined;
}

class MeteredStream<TChunk> implements ProviderStream<TChunk> {
  private deliveredText = '';
  private deliveredTokens = 0;
  private tokensKnown = true;
  private finalUsage: Usage | null = null;
  private engineTiming: EngineTiming | undefined = undefined;
  private consumed = false;
  private readonly source: StreamSource<TChunk>;
  private readonly first: StreamEvent<TChunk>;

  constructor(source: StreamSource<TChunk>, first: StreamEvent<TChunk>) {
    this.source = source;
    this.first = first;
  }

  get engine(): EngineTiming | undefined {
    return this.engineTiming;
  }

  get usage(): Usage {
    if (this.finalUsage !== null) return this.finalUsage;
    return {
      promptTokens: this.source.promptTokens,
      completionTokens: this.tokensKnown ? this.deliveredTokens : estimateTokens(this.deliveredText),
      estimated: this.source.promptEstimated || !this.tokensKnown,
    };
  }

  private record(event: StreamEvent<TChunk>): void {
    if (event.kind === 'end') {
      this.finalUsage = event.usage;
      this.engineTiming = event.engine;
      return;
    }
    this.deliveredText += event.text;
    if (event.tokens === null) this.tokensKnown = false;
    else this.deliveredTokens += event.tokens;
  }

  private interrupted(error: unknown): PerdiemError {
    if (error instanceof StreamInterruptedError || error instanceof ClientClosedError) return error;
    if (this.source.signal?.aborted) {
      return new ClientClosedError('client closed the stream', { code: 'client_closed', delivered: this.usage });
    }
    const reason = error instanceof Error ? error.message : String(error);
    return new StreamInterruptedError(`stream interrupted: ${reason}`, {
      code: 'stream_interrupted',
      cause: error,
      delivered: this.usage,
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TChunk> {
    if (this.consumed) throw new Error('a provider stream can be iterated once');
    this.consumed = true;
    try {
      let event: StreamEvent<TChunk> = this.first;
      while (true) {
        this.record(event);
        yield event.chunk;
        if (event.kind === 'end') return;
        let next: IteratorResult<StreamEvent<TChunk>>;
        try {
          next = await this.source.events.next();
        } catch (error) {
          throw this.interrupted(error);
        }
        if (next.done) throw this.interrupted(new Error('upstream ended the stream without a final event'));
        event = next.value;
      }
    } finally {
      if (this.finalUsage === null) {
        this.source.cancel();
        // Let a suspended source generator run its own cleanup (closing the upstream body).
        void this.source.events.return?.(undefined)?.catch(() => {});
      }
    }
  }
}

/** Resolves once the first chunk is ready; rejects (after cancelling) on any failure before it. */
export async function startStream<TChunk>(source: StreamSource<TChunk>): Promise<ProviderStream<TChunk>> {
  let first: IteratorResult<StreamEvent<TChunk>>;
  try {
    first = await source.events.next();
  } catch (error) {
    source.cancel();
    if (source.signal?.aborted && !(error instanceof ClientClosedError)) {
      throw new ClientClosedError('client closed the request', {
        code: 'client_closed',
        cause: error,
        delivered: { promptTokens: 0, completionTokens: 0, estimated: false },
      });
    }
    throw error;
  }
  if (first.done) {
    source.cancel();
    throw new UpstreamError('upstream ended the stream before its first chunk', { code: 'empty_stream' });
  }
  return new MeteredStream(source, first.value);
}
