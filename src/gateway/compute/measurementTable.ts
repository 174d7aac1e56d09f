/**
 * The rolling estimates per (model, provider, kind), as the gateway keeps them in memory: readings fold in as
 * requests finish, rows load from the ledger at start, and the changed rows are taken out for saving.
 */
import type { ComputeMeasurement, MeasuredKind } from '../../ledger/measurements/measurementsLedger.ts';
import type { EngineSample, WholeSample } from './engineSample.ts';
import { noRate, type RollingRate, withReading } from './rollingRate.ts';

interface Entry {
  model: string;
  provider: string;
  kind: MeasuredKind;
  prefill: RollingRate;
  decode: RollingRate;
  image: RollingRate;
  samples: number;
  updatedAtMs: number;
}

export interface MeasurementTable {
  record(sample: EngineSample, atMs: number): void;
  /**
   * A non-streaming text answer's whole time, split into prefill and decode in the proportion of this (model,
   * provider)'s current estimates; ignored until both exist (streams provide them).
   */
  recordWhole(sample: WholeSample, atMs: number): void;
  /** Ordered by model, provider and kind (as the ledger lists them). */
  rows(): ComputeMeasurement[];
  /** Rows loaded from the ledger; readings already taken in this process are kept. */
  load(rows: readonly ComputeMeasurement[]): void;
  /** The rows changed since the last call. */
  takeChanged(): ComputeMeasurement[];
  /** Marks rows changed again (a save that failed). */
  markChanged(rows: readonly ComputeMeasurement[]): void;
}

const keyOf = (model: string, provider: string, kind: MeasuredKind) => `${model}\u0000${provider}\u0000${kind}`;

function rowOf(entry: Entry): ComputeMeasurement {
  return {
    model: entry.model,
    provider: entry.provider,
    kind: entry.kind,
    prefillSecondsPerToken: entry.prefill.secondsPerUnit,
    prefillSamples: entry.prefill.samples,
    decodeSecondsPerToken: entry.decode.secondsPerUnit,
    decodeSamples: entry.decode.samples,
    secondsPerImage: entry.image.secondsPerUnit,
    imageSamples: entry.image.samples,
    samples: entry.samples,
    updatedAtMs: entry.updatedAtMs,
  };
}

function entryOf(row: ComputeMeasurement): Entry {
  return {
    model: row.model,
    provider: row.provider,
    kind: row.kind,
    prefill: { secondsPerUnit: row.prefillSecondsPerToken, samples: row.prefillSamples },
    decode: { secondsPerUnit: row.decodeSecondsPerToken, samples: row.decodeSamples },
    image: { secondsPerUnit: row.secondsPerImage, samples: row.imageSamples },
    samples: row.samples,
    updatedAtMs: row.updatedAtMs,
  };
}

export function createMeasurementTable(): MeasurementTable {
  const entries = new Map<string, Entry>();
  const changed = new Set<string>();

  const entry = (model: string, provider: string, kind: MeasuredKind): Entry => {
    const key = keyOf(model, provider, kind);
    let found = entries.get(key);
    if (found === undefined) {
      found = { model, provider, kind, prefill: noRate, decode: noRate, image: noRate, samples: 0, updatedAtMs: 0 };
      entries.set(key, found);
    }
    return found;
  };
  const touched = (target: Entry, atMs: number) => {
    target.samples += 1;
    target.updatedAtMs = atMs;
    changed.add(keyOf(target.model, target.provider, target.kind));
  };

  return {
    record(sample, atMs) {
      const target = entry(sample.model, sample.provider, sample.kind);
      const before = target.prefill.samples + target.decode.samples + target.image.samples;
      target.prefill = withReading(target.prefill, sample.prefillTokens, sample.prefillSeconds);
      target.decode = withReading(target.decode, sample.decodeTokens, sample.decodeSeconds);
      target.image = withReading(target.image, sample.images, sample.imageSeconds);
      if (target.prefill.samples + target.decode.samples + target.image.samples > before) touched(target, atMs);
    },
    recordWhole(sample, atMs) {
      const target = entries.get(keyOf(sample.model, sample.provider, 'text'));
      const prefill = target?.prefill.secondsPerUnit;
      const decode = target?.decode.secondsPerUnit;
      if (target === undefined || prefill == null || decode == null) return;
      const expected = prefill * sample.promptTokens + decode * sample.completionTokens;
      if (!(expected > 0)) return;
      const scale = sample.seconds / expected;
      this.record(
        {
          model: sample.model,
          provider: sample.provider,
          kind: 'text',
          prefillTokens: sample.promptTokens,
          prefillSeconds: scale * prefill * sample.promptTokens,
          decodeTokens: sample.completionTokens,
          decodeSeconds: scale * decode * sample.completionTokens,
          images: 0,
          imageSeconds: 0,
        },
        atMs,
      );
    },
    rows: () =>
      [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, found]) => rowOf(found)),
    load(rows) {
      for (const row of rows) {
        const key = keyOf(row.model, row.provider, row.kind);
        if (!entries.has(key)) entries.set(key, entryOf(row));
      }
    },
    takeChanged() {
      const rows = [...changed].flatMap((key) => {
        const found = entries.get(key);
        return found ? [rowOf(found)] : [];
      });
      changed.clear();
      return rows;
    },
    markChanged(rows) {
      for (const row of rows) changed.add(keyOf(row.model, row.provider, row.kind));
    },
  };
}
