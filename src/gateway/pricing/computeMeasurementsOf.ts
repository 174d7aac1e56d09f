/**
 * CU estimates held in memory, from given `ModelCu` values: what a gateway has before it measures anything (none),
 * and what tests and fixed deployments pass. The measured estimates implement the same interface.
 */
import type { ComputeMeasurements, ModelCu } from '../../core/computeUnits.ts';

export function computeMeasurementsOf(estimates: readonly ModelCu[]): ComputeMeasurements {
  const byModel = new Map(estimates.map((cu) => [cu.model, cu]));
  return { cuOf: (model) => byModel.get(model) ?? null, all: () => [...byModel.values()] };
}

/** No estimates: calibration keeps every price, and /v1/models shows no CU rates. */
export const noComputeMeasurements: ComputeMeasurements = computeMeasurementsOf([]);
