/**
 * The gateway's compute meter: it takes each finished request's engine readings (timedProvider.ts) and folds them
 * into rolling estimates per (model, provider, kind) (measurementTable.ts). What they mean in CU is read through
 * measuredCompute.ts.
 */
import type { Clock } from '../../core/epoch.ts';
import type { EngineSample, WholeSample } from './engineSample.ts';
import { createMeasurementTable, type MeasurementTable } from './measurementTable.ts';

export interface ComputeMeter {
  record(sample: EngineSample): void;
  recordWhole(sample: WholeSample): void;
  readonly table: MeasurementTable;
}

export function createComputeMeter(clock: Clock): ComputeMeter {
  const table = createMeasurementTable();
  return {
    table,
    record: (sample) => table.record(sample, clock()),
    recordWhole: (sample) => table.recordWhole(sample, clock()),
  };
}
