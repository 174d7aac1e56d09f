/**
 * Compute measurements: the gateway's rolling estimates of what each model costs to run on each provider, in
 * engine-seconds per token (prefill, decode) and per image, with the samples each rests on. The gateway keeps them
 * in memory and writes them here periodically and on shutdown, so that a restart keeps them (see
 * gateway/compute/measurementPersistence.ts). Readings are physical (floating point), not money.
 *
 * One row per (model, provider, kind). A save replaces the rows it names (last writer wins): replicas sharing a
 * PostgreSQL ledger each write their own view of a shared row.
 */

export type MeasuredKind = 'text' | 'embedding' | 'image';
export const measuredKinds: readonly MeasuredKind[] = ['text', 'embedding', 'image'];

export interface ComputeMeasurement {
  model: string;
  provider: string;
  kind: MeasuredKind;
  /** Engine-seconds per prompt (or embedding input) token, or null before the first reading. */
  prefillSecondsPerToken: number | null;
  prefillSamples: number;
  /** Engine-seconds per output token, or null before the first reading. */
  decodeSecondsPerToken: number | null;
  decodeSamples: number;
  /** Engine-seconds per image, or null before the first reading. */
  secondsPerImage: number | null;
  imageSamples: number;
  /** Requests the row rests on. */
  samples: number;
  updatedAtMs: number;
}

export interface MeasurementsLedger {
  /** Inserts or replaces each row by (model, provider, kind), in one transaction. */
  saveMeasurements(rows: readonly ComputeMeasurement[]): Promise<void>;
  /** Every stored row, ordered by model, provider, kind. */
  listMeasurements(): Promise<ComputeMeasurement[]>;
}
