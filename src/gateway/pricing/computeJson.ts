/** A model's CU estimate as the APIs show it: exact decimal strings for the operator, numbers in /v1/models. */
import { type ModelCu, microCuPerCu } from '../../core/computeUnits.ts';

/** Exact: 1_500_000n micro-CU → "1.5". */
export function formatMicroCu(microCu: bigint): string {
  const whole = microCu / microCuPerCu;
  const fraction = (microCu % microCuPerCu).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

function rates<T>(cu: ModelCu, render: (microCu: bigint) => T): Record<string, T> {
  const out: Record<string, T> = {};
  if (cu.inputPer1MMicroCu !== undefined) out.inputPer1M = render(cu.inputPer1MMicroCu);
  if (cu.outputPer1MMicroCu !== undefined) out.outputPer1M = render(cu.outputPer1MMicroCu);
  if (cu.perImageMicroCu !== undefined) out.perImage = render(cu.perImageMicroCu);
  return out;
}

/** The operator API's shape: `{inputPer1M?, outputPer1M?, perImage?, samples, inheritedFrom}`, CU as strings. */
export function cuJson(cu: ModelCu | null): Record<string, unknown> | null {
  if (cu === null) return null;
  return { ...rates(cu, formatMicroCu), samples: cu.samples, inheritedFrom: cu.inheritedFrom };
}

/** `model_spec.compute_units` in /v1/models: CU per 1M input / output tokens or per image, as numbers. */
export function computeUnitsSpec(cu: ModelCu | null): Record<string, unknown> | null {
  if (cu === null) return null;
  const numbers = rates(cu, (microCu) => Number(formatMicroCu(microCu)));
  return {
    ...(numbers.inputPer1M === undefined ? {} : { input_per_1m: numbers.inputPer1M }),
    ...(numbers.outputPer1M === undefined ? {} : { output_per_1m: numbers.outputPer1M }),
    ...(numbers.perImage === undefined ? {} : { per_image: numbers.perImage }),
    samples: cu.samples,
    inherited_from: cu.inheritedFrom,
  };
}
