/**
 * Compute units: one measure of inference cost across models and hardware.
 *
 * A compute unit (CU) is one second of the reference accelerator class. Each provider (or hardware class) declares
 * its CU rate: how many CU one second of its engine is worth (its speed against the reference), and what one hour of
 * it costs. A model's cost is then measured from real traffic in engine-seconds per token (prefill and decode), per
 * image and per embedding input, and converted to CU with its provider's rate.
 *
 * Measurements are physical readings (floats); amounts that feed prices are integers in micro-CU (1e-6 CU), rounded
 * UP where a reading becomes an amount, so a derived price never undercounts the compute it pays for.
 */
import { type NanoUsd, parseUsd } from './money.ts';

/** 1 CU = 1e6 micro-CU. */
export const microCuPerCu = 1_000_000n;

/** How one provider's (or hardware class's) engine compares to the reference, and what it costs to run. */
export interface ComputeRate {
  /** CU one engine-second is worth, in parts per million (1_000_000: the reference itself). */
  cuPerEngineSecondPpm: number;
  /** What one hour of this hardware costs the operator, nano-USD. */
  costPerHourNano: NanoUsd;
}

/** One reference-accelerator hour at the rate the operator prices CU: the default when a provider declares nothing. */
export const referenceComputeRate: ComputeRate = { cuPerEngineSecondPpm: 1_000_000, costPerHourNano: 0n };

/**
 * What one model costs to run, in micro-CU, as measured on its providers (or inherited from its predecessor until it
 * has enough samples of its own). Fields a model's kind has no use for are absent.
 */
export interface ModelCu {
  model: string;
  kind: 'text' | 'embedding' | 'image';
  /** Prefill: micro-CU per 1M prompt tokens (text and embedding input). */
  inputPer1MMicroCu?: bigint;
  /** Decode: micro-CU per 1M output tokens (text). */
  outputPer1MMicroCu?: bigint;
  /** micro-CU per image (images). */
  perImageMicroCu?: bigint;
  /** Requests the estimate rests on. */
  samples: number;
  /** The predecessor whose measurements stand in, or null when these are the model's own. */
  inheritedFrom: string | null;
}

/** The gateway's current CU estimates, one per model (across the providers that served it). */
export interface ComputeMeasurements {
  cuOf(model: string): ModelCu | null;
  all(): ModelCu[];
}

/** How a provider's config states its rate: CU per engine-second (a decimal), and the hardware's USD per hour. */
export interface ComputeRateConfig {
  cuPerEngineSecond: number;
  /** USD decimal string, at most 9 places. */
  costPerHourUsd?: string;
}

/** The rate a provider declared, or the reference when it declared none. */
export function computeRateOf(config: ComputeRateConfig | undefined): ComputeRate {
  if (config === undefined) return referenceComputeRate;
  if (!(Number.isFinite(config.cuPerEngineSecond) && config.cuPerEngineSecond > 0)) {
    throw new TypeError(`computeRate.cuPerEngineSecond must be a number > 0, got ${config.cuPerEngineSecond}`);
  }
  return {
    cuPerEngineSecondPpm: Math.round(config.cuPerEngineSecond * 1_000_000),
    costPerHourNano: config.costPerHourUsd === undefined ? 0n : parseUsd(config.costPerHourUsd),
  };
}

/**
 * micro-CU for `units` units that each took `secondsPerUnit` engine-seconds at `rate`, rounded UP:
 * seconds × (ppm / 1e6) CU per second × 1e6 micro-CU per CU = seconds × ppm.
 */
export function microCuOf(secondsPerUnit: number, units: number, rate: ComputeRate): bigint {
  return BigInt(Math.ceil(secondsPerUnit * units * rate.cuPerEngineSecondPpm));
}

/** micro-CU as a decimal CU string with 6 places, e.g. 1_500_000n → "1.500000". */
export function formatCu(microCu: bigint): string {
  const sign = microCu < 0n ? '-' : '';
  const magnitude = microCu < 0n ? -microCu : microCu;
  return `${sign}${magnitude / microCuPerCu}.${(magnitude % microCuPerCu).toString().padStart(6, '0')}`;
}
