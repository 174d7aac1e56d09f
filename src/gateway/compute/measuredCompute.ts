/**
 * The compute meter's estimates as `ComputeMeasurements`: what each model costs in CU at its providers' declared
 * rates (sample-weighted across providers), with a new model standing on its predecessor's measurements until it
 * has enough of its own; and the rows as the operator sees them (GET /admin/measurements, /metrics).
 */
import type { ComputeMeasurements, ComputeRate, ModelCu } from '../../core/computeUnits.ts';
import type { ComputeMeasurement } from '../../ledger/measurements/measurementsLedger.ts';
import type { MeasurementTable } from './measurementTable.ts';
import { modelCuOf, rowCu } from './modelCu.ts';

export interface MeasuredComputeDeps {
  /** The rate a provider declared (the reference when it declared none). */
  rateOf(provider: string): ComputeRate;
  /** The predecessor the operator named for a model (PATCH /admin/models/:id), or null. */
  predecessorOf(model: string): string | null;
  /** Models that name a predecessor: they have CU before they have measurements of their own. */
  modelsWithPredecessor(): string[];
}

/** One row as the operator sees it: the readings, its CU at its provider's rate, and whether it is inherited. */
export interface MeasurementView extends ComputeMeasurement {
  cu: Omit<ModelCu, 'model' | 'kind' | 'samples' | 'inheritedFrom'>;
  inheritedFrom: string | null;
}

export interface MeasuredCompute extends ComputeMeasurements {
  /** Every measured row, then the rows a model inherits from its predecessor while it has too few samples. */
  views(): MeasurementView[];
}

export function measuredCompute(table: MeasurementTable, deps: MeasuredComputeDeps): MeasuredCompute {
  const cuOf = (model: string) => modelCuOf(model, table.rows(), deps.rateOf, deps.predecessorOf);
  const viewOf = (row: ComputeMeasurement, inheritedFrom: string | null): MeasurementView => {
    const { kind: _kind, samples: _samples, ...cu } = rowCu(row, deps.rateOf(row.provider));
    return { ...row, cu, inheritedFrom };
  };
  return {
    cuOf,
    all() {
      const models = new Set([...table.rows().map((row) => row.model), ...deps.modelsWithPredecessor()]);
      return [...models]
        .sort()
        .map(cuOf)
        .filter((cu): cu is ModelCu => cu !== null);
    },
    views() {
      const rows = table.rows();
      const own = rows.map((row) => viewOf(row, null));
      const inherited = deps.modelsWithPredecessor().flatMap((model) => {
        const from = cuOf(model)?.inheritedFrom ?? null;
        if (from === null) return [];
        return rows.filter((row) => row.model === from).map((row) => viewOf({ ...row, model }, from));
      });
      return [...own, ...inherited];
    },
  };
}
