/** Compute measurements on PostgreSQL: one multi-row upsert per save. */
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import { checkMeasurement, type MeasurementRow, measurementOf } from './measurementRows.ts';
import type { ComputeMeasurement, MeasurementsLedger } from './measurementsLedger.ts';

export class PostgresMeasurements implements MeasurementsLedger {
  private readonly storage: LedgerStorage;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
  }

  async saveMeasurements(rows: readonly ComputeMeasurement[]): Promise<void> {
    rows.forEach(checkMeasurement);
    if (rows.length === 0) return;
    const { sql } = this.storage;
    const values = rows.map((row) => ({
      model: row.model,
      provider: row.provider,
      kind: row.kind,
      prefill_seconds_per_token: row.prefillSecondsPerToken,
      prefill_samples: row.prefillSamples,
      decode_seconds_per_token: row.decodeSecondsPerToken,
      decode_samples: row.decodeSamples,
      seconds_per_image: row.secondsPerImage,
      image_samples: row.imageSamples,
      samples: row.samples,
      updated_at_ms: row.updatedAtMs,
    }));
    await sql`INSERT INTO compute_measurements ${sql(values)}
      ON CONFLICT (model, provider, kind) DO UPDATE SET
        prefill_seconds_per_token = excluded.prefill_seconds_per_token, prefill_samples = excluded.prefill_samples,
        decode_seconds_per_token = excluded.decode_seconds_per_token, decode_samples = excluded.decode_samples,
        seconds_per_image = excluded.seconds_per_image, image_samples = excluded.image_samples,
        samples = excluded.samples, updated_at_ms = excluded.updated_at_ms`;
  }

  async listMeasurements(): Promise<ComputeMeasurement[]> {
    const rows = await this.storage.sql`SELECT * FROM compute_measurements
      ORDER BY model COLLATE "C", provider COLLATE "C", kind COLLATE "C"`;
    return (rows as unknown as MeasurementRow[]).map(measurementOf);
  }
}
