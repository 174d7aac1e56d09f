/**
 * What one request cost its engine: the readings the compute meter folds into its estimates. `exact` readings come
 * from the engine itself (the in-process llama provider times prompt evaluation and generation separately); the
 * others are wall-clock estimates made outside an upstream (see timedProvider.ts).
 */
import type { MeasuredKind } from '../../ledger/measurements/measurementsLedger.ts';
import type { EngineTiming } from '../providers/types.ts';

export interface EngineSample {
  model: string;
  provider: string;
  kind: MeasuredKind;
  /** Prompt (or embedding input) tokens the engine evaluated, and the seconds it took. */
  prefillTokens: number;
  prefillSeconds: number;
  /** Output tokens and the seconds they took. */
  decodeTokens: number;
  decodeSeconds: number;
  images: number;
  imageSeconds: number;
}

/** A whole request's time, not split into prefill and decode (a non-streaming upstream answer). */
export interface WholeSample {
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
}

export function sampleOf(
  model: string,
  provider: string,
  kind: MeasuredKind,
  timing: Partial<EngineTiming> & { images?: number; imageSeconds?: number },
): EngineSample {
  return {
    model,
    provider,
    kind,
    prefillTokens: timing.prefillTokens ?? 0,
    prefillSeconds: timing.prefillSeconds ?? 0,
    decodeTokens: timing.decodeTokens ?? 0,
    decodeSeconds: timing.decodeSeconds ?? 0,
    images: timing.images ?? 0,
    imageSeconds: timing.imageSeconds ?? 0,
  };
}
