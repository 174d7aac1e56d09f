/**
 * Keeps the compute meter's estimates across restarts: loads the ledger's rows at start, writes the changed rows
 * every `persistIntervalMs`, and once more on stop. A failed write keeps the rows changed for the next pass.
 */
import type { MeasurementsLedger } from '../../ledger/measurements/measurementsLedger.ts';
import { computeLimits } from './limits.ts';
import type { MeasurementTable } from './measurementTable.ts';

export interface MeasurementPersistence {
  /** Writes what changed now. */
  flush(): Promise<void>;
  /** Stops the timer and writes what changed. */
  stop(): Promise<void>;
}

export async function startMeasurementPersistence(options: {
  ledger: MeasurementsLedger;
  table: MeasurementTable;
  intervalMs?: number;
  onError: (error: unknown) => void;
}): Promise<MeasurementPersistence> {
  const { ledger, table } = options;
  table.load(await ledger.listMeasurements());
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    writing = writing.then(async () => {
      const rows = table.takeChanged();
      if (rows.length === 0) return;
      try {
        await ledger.saveMeasurements(rows);
      } catch (error) {
        table.markChanged(rows);
        options.onError(error);
      }
    });
    return writing;
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? computeLimits.persistIntervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
