/**
 * From measurements to compute units: one row's CU at its provider's rate, a model's CU across the providers that
 * served it (each field weighted by the samples behind it), and a new model standing on its predecessor's
 * measurements until it has `samplesMin` samples of its own. Amounts are integer micro-CU, rounded up.
 */
import { type ComputeRate, type ModelCu, microCuOf } from '../../core/computeUnits.ts';
import { ceilDiv } from '../../core/money.ts';
import type { ComputeMeasurement, MeasuredKind } from '../../ledger/measurements/measurementsLedger.ts';
import { computeLimits } from './limits.ts';

const perMillion = 1_000_000;

/** One row in CU: per 1M prompt tokens, per 1M output tokens and per image, where it has readings. */
export function rowCu(row: ComputeMeasurement, rate: ComputeRate): Omit<ModelCu, 'model' | 'inheritedFrom'> {
  return {
    kind: row.kind,
    ...(row.prefillSecondsPerToken === null
      ? {}
      : { inputPer1MMicroCu: microCuOf(row.prefillSecondsPerToken, perMillion, rate) }),
    ...(row.decodeSecondsPerToken === null
      ? {}
      : { outputPer1MMicroCu: microCuOf(row.decodeSecondsPerToken, perMillion, rate) }),
    ...(row.secondsPerImage === null ? {} : { perImageMicroCu: microCuOf(row.secondsPerImage, 1, rate) }),
    samples: row.samples,
  };
}

/** The kind a model is priced by: text when it was used for text, else embeddings, else images. */
function primaryKind(rows: readonly ComputeMeasurement[]): MeasuredKind | null {
  for (const kind of ['text', 'embedding', 'image'] as const) {
    if (rows.some((row) => row.kind === kind)) return kind;
  }
  return null;
}

/** Sample-weighted mean of the providers' values, rounded up; absent when no provider has a reading. */
function weighted(parts: Array<{ value: bigint | undefined; samples: number }>): bigint | undefined {
  let sum = 0n;
  let weight = 0n;
  for (const part of parts) {
    if (part.value === undefined || part.samples <= 0) continue;
    sum += part.value * BigInt(part.samples);
    weight += BigInt(part.samples);
  }
  return weight === 0n ? undefined : ceilDiv(sum, weight);
}

/** A model's own CU across its providers, or null when it has no measurements. */
export function ownModelCu(
  model: string,
  rows: readonly ComputeMeasurement[],
  rateOf: (provider: string) => ComputeRate,
): ModelCu | null {
  const mine = rows.filter((row) => row.model === model);
  const kind = primaryKind(mine);
  if (kind === null) return null;
  const parts = mine.filter((row) => row.kind === kind).map((row) => ({ row, cu: rowCu(row, rateOf(row.provider)) }));
  const field = (
    pick: (cu: ReturnType<typeof rowCu>) => bigint | undefined,
    samples: (r: ComputeMeasurement) => number,
  ) => weighted(parts.map(({ row, cu }) => ({ value: pick(cu), samples: samples(row) })));
  const input = field(
    (cu) => cu.inputPer1MMicroCu,
    (row) => row.prefillSamples,
  );
  const output = field(
    (cu) => cu.outputPer1MMicroCu,
    (row) => row.decodeSamples,
  );
  const image = field(
    (cu) => cu.perImageMicroCu,
    (row) => row.imageSamples,
  );
  return {
    model,
    kind,
    ...(input === undefined ? {} : { inputPer1MMicroCu: input }),
    ...(output === undefined ? {} : { outputPer1MMicroCu: output }),
    ...(image === undefined ? {} : { perImageMicroCu: image }),
    samples: parts.reduce((total, { row }) => total + row.samples, 0),
    inheritedFrom: null,
  };
}

/**
 * The CU a model is priced by: its own once it has `samplesMin` samples, else its predecessor's (followed up to
 * `predecessorDepthMax` links), else its own few, else null.
 */
export function modelCuOf(
  model: string,
  rows: readonly ComputeMeasurement[],
  rateOf: (provider: string) => ComputeRate,
  predecessorOf: (model: string) => string | null,
  depth = 0,
): ModelCu | null {
  const own = ownModelCu(model, rows, rateOf);
  if (own !== null && own.samples >= computeLimits.samplesMin) return own;
  const predecessor = predecessorOf(model);
  if (predecessor !== null && predecessor !== model && depth < computeLimits.predecessorDepthMax) {
    const inherited = modelCuOf(predecessor, rows, rateOf, predecessorOf, depth + 1);
    if (inherited !== null) return { ...inherited, model, inheritedFrom: inherited.inheritedFrom ?? predecessor };
  }
  return own;
}
