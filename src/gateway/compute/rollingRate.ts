/**
 * A rolling estimate of seconds per unit (token or image), with the samples it rests on. The first readings are
 * averaged evenly; later ones are weighted exponentially (at least `readingWeightMin`), so the estimate follows a
 * change in cost without one odd request moving it far.
 */
import { computeLimits } from './limits.ts';

export interface RollingRate {
  /** Seconds per unit, or null before the first reading. */
  secondsPerUnit: number | null;
  samples: number;
}

export const noRate: RollingRate = { secondsPerUnit: null, samples: 0 };

function clipped(reading: number, estimate: number, samples: number): number {
  if (samples < computeLimits.readingClipAfterSamples) return reading;
  const { readingClipFactor: factor } = computeLimits;
  return Math.min(Math.max(reading, estimate / factor), estimate * factor);
}

/** The estimate after one reading of `seconds` over `units`; a reading with no units or a bad time is ignored. */
export function withReading(rate: RollingRate, units: number, seconds: number): RollingRate {
  if (!(units > 0) || !(Number.isFinite(seconds) && seconds >= 0)) return rate;
  const samples = rate.samples + 1;
  if (rate.secondsPerUnit === null) return { secondsPerUnit: seconds / units, samples };
  const reading = clipped(seconds / units, rate.secondsPerUnit, rate.samples);
  const weight = Math.max(1 / samples, computeLimits.readingWeightMin);
  return { secondsPerUnit: rate.secondsPerUnit + weight * (reading - rate.secondsPerUnit), samples };
}
