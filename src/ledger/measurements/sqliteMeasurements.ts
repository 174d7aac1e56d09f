/** Compute measurements on SQLite: one upsert per row, all in one write transaction. */
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { checkMeasurement, type MeasurementRow, measurementOf } from './measurementRows.ts';
import type { ComputeMeasurement, MeasurementsLedger } from './measurementsLedger.ts';

const measurementStatements = {
  upsert: `INSERT INTO compute_measurements (model, provider, kind, prefill_seconds_per_token, prefill_samples,
      decode_seconds_per_token, decode_samples, seconds_per_image, image_samples, samples, updated_at_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model, provider, kind) DO UPDATE SET prefill_seconds_per_token = excluded.prefill_seconds_per_token,
      prefill_samples = excluded.prefill_samples, decode_seconds_per_token = excluded.decode_seconds_per_token,
      decode_samples = excluded.decode_samples, seconds_per_image = excluded.seconds_per_image,
      image_samples = excluded.image_samples, samples = excluded.samples, updated_at_ms = excluded.updated_at_ms`,
  all: 'SELECT * FROM compute_measurements ORDER BY model, provider, kind',
} as const;

export class SqliteMeasurements implements MeasurementsLedger {
  private readonly storage: SqliteStorage;
  private readonly stmt: PreparedCatalog<typeof measurementStatements>;

  constructor(storage: SqliteStorage) {
    this.storage = storage;
    this.stmt = storage.prepare(measurementStatements);
  }

  async saveMeasurements(rows: readonly ComputeMeasurement[]): Promise<void> {
    rows.forEach(checkMeasurement);
    if (rows.length === 0) return;
    this.storage.tx(() => {
      for (const row of rows) {
        this.stmt.upsert.run(
          row.model,
          row.provider,
          row.kind,
          row.prefillSecondsPerToken,
          row.prefillSamples,
          row.decodeSecondsPerToken,
          row.decodeSamples,
          row.secondsPerImage,
          row.imageSamples,
          row.samples,
          row.updatedAtMs,
        );
      }
    });
  }

  async listMeasurements(): Promise<ComputeMeasurement[]> {
    return (this.stmt.all.all() as unknown as MeasurementRow[]).map(measurementOf);
  }
}
