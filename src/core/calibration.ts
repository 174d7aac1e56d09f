/**
 * Calibration: a proposed price sheet from the measured compute of each model.
 *
 *   price per unit = CU per unit × CU price × (1 + margin)
 *
 * in integer nano-USD, rounded UP (the operator is never paid less than the compute it sells plus its margin, and at
 * most 1 nano-USD more per rate). Each rate then moves at most `stepBpsMax` from the sheet in force: a target beyond
 * the bound is clamped to it (rounded toward the current rate, so the clamped rate is always within the bound) and
 * reported as clamped. A rate of 0 stays 0 (no step leaves it). Models with no CU estimate keep their price; a model
 * with an estimate and no price yet gets the target price outright (nothing was priced, there is nothing to bound).
 *
 * Calibration sets the rates compute drives: text input and output per 1M tokens, embedding input per 1M tokens and
 * the flat per-image price. Cache, long-context and per-resolution rates are kept as they are.
 */
import { type ModelCu, microCuPerCu } from './computeUnits.ts';
import { mulDivDown, mulDivUp, type NanoUsd } from './money.ts';
import { basisPointsPerUnit, changeBps } from './priceChange.ts';
import type { ModelPrice, PriceSheet } from './pricing.ts';

export interface CalibrationTerms {
  /** What the operator charges for one CU (one reference-accelerator second), nano-USD. */
  cuPriceNano: NanoUsd;
  /** Markup over the compute cost, basis points (2_000: 20% above cost; 0: at cost). */
  marginBps: number;
  /** The most a rate moves per epoch, basis points of the current rate. */
  stepBpsMax: number;
}

/** $0.001 per CU ($3.60 a reference-accelerator hour), a 20% margin, and at most 20% per epoch. */
export const calibrationTermsDefault: CalibrationTerms = {
  cuPriceNano: 1_000_000n,
  marginBps: 2_000,
  stepBpsMax: 2_000,
};

const bps = BigInt(basisPointsPerUnit);

/** ceil(microCu × cuPriceNano × (10⁴ + marginBps) / (10⁶ × 10⁴)). */
export function priceOfMicroCu(microCu: bigint, terms: Pick<CalibrationTerms, 'cuPriceNano' | 'marginBps'>): NanoUsd {
  return mulDivUp(microCu * terms.cuPriceNano, bps + BigInt(terms.marginBps), microCuPerCu * bps);
}

/** `target` moved at most `stepBpsMax` from `current`: rounded toward `current`, so always within the bound. */
export function clampStep(current: NanoUsd, target: NanoUsd, stepBpsMax: number): { value: NanoUsd; clamped: boolean } {
  const step = BigInt(stepBpsMax);
  if (target > current) {
    const max = mulDivDown(current, bps + step, bps);
    return target > max ? { value: max, clamped: true } : { value: target, clamped: false };
  }
  const min = step >= bps ? 0n : mulDivUp(current, bps - step, bps);
  return target < min ? { value: min, clamped: true } : { value: target, clamped: false };
}

/** The rates compute drives for a price of `kind`, from the model's CU (only those the estimate has). */
function targetsOf(kind: ModelPrice['kind'], cu: ModelCu, terms: CalibrationTerms): Record<string, NanoUsd> {
  const price = (microCu: bigint | undefined) => (microCu === undefined ? undefined : priceOfMicroCu(microCu, terms));
  const entries: [string, NanoUsd | undefined][] = [];
  if (kind === 'text' && cu.kind === 'text') {
    entries.push(['inputPer1M', price(cu.inputPer1MMicroCu)], ['outputPer1M', price(cu.outputPer1MMicroCu)]);
  } else if (kind === 'embedding' && cu.kind !== 'image') {
    entries.push(['inputPer1M', price(cu.inputPer1MMicroCu)]);
  } else if (kind === 'image' && cu.kind === 'image') {
    entries.push(['perImage', price(cu.perImageMicroCu)]);
  }
  return Object.fromEntries(entries.filter((entry): entry is [string, NanoUsd] => entry[1] !== undefined));
}

/** A first price from CU alone, when the estimate covers every rate the kind needs; null otherwise. */
function firstPriceOf(cu: ModelCu, terms: CalibrationTerms): ModelPrice | null {
  const kind = cu.kind;
  const targets = targetsOf(kind, cu, terms);
  if (kind === 'text' && targets.inputPer1M !== undefined && targets.outputPer1M !== undefined) {
    return { kind, inputPer1M: targets.inputPer1M, outputPer1M: targets.outputPer1M };
  }
  if (kind === 'embedding' && targets.inputPer1M !== undefined) return { kind, inputPer1M: targets.inputPer1M };
  if (kind === 'image' && targets.perImage !== undefined) return { kind, perImage: targets.perImage };
  return null;
}

export interface ModelProposal {
  model: string;
  kind: ModelPrice['kind'];
  /** The price in the sheet in force (or already scheduled), null when the model has none. */
  current: ModelPrice | null;
  proposed: ModelPrice;
  /** Each calibrated rate's change from `current`, basis points (empty for a first price). */
  changeBps: Record<string, number>;
  /** True when a rate's target was beyond the step bound and the proposal stops at the bound. */
  clamped: boolean;
  cu: ModelCu | null;
}

export interface SheetProposal {
  sheet: PriceSheet;
  models: ModelProposal[];
}

function proposalFor(
  model: string,
  current: ModelPrice | null,
  cu: ModelCu | null,
  terms: CalibrationTerms,
): ModelProposal | null {
  if (current === null) {
    const first = cu === null ? null : firstPriceOf(cu, terms);
    return first === null
      ? null
      : { model, kind: first.kind, current, proposed: first, changeBps: {}, clamped: false, cu };
  }
  const targets = cu === null ? {} : targetsOf(current.kind, cu, terms);
  const proposed: Record<string, unknown> = { ...current };
  const change: Record<string, number> = {};
  let clamped = false;
  for (const [field, target] of Object.entries(targets)) {
    const now = (current as unknown as Record<string, NanoUsd | undefined>)[field];
    if (now === undefined) continue;
    const step = clampStep(now, target, terms.stepBpsMax);
    proposed[field] = step.value;
    change[field] = changeBps(now, step.value);
    clamped ||= step.clamped;
  }
  return {
    model,
    kind: current.kind,
    current,
    proposed: proposed as unknown as ModelPrice,
    changeBps: change,
    clamped,
    cu,
  };
}

/**
 * The sheet calibration proposes to follow `current` (the newest sheet, null when there is none) from `estimates`,
 * effective at `effectiveFromMs`. Estimates without samples are ignored.
 */
export function proposeSheet(
  current: PriceSheet | null,
  estimates: readonly ModelCu[],
  terms: CalibrationTerms,
  effectiveFromMs: number,
): SheetProposal {
  const cuByModel = new Map(estimates.filter((cu) => cu.samples > 0).map((cu) => [cu.model, cu]));
  const names = [...new Set([...Object.keys(current?.models ?? {}), ...cuByModel.keys()])].sort();
  const models: ModelProposal[] = [];
  for (const model of names) {
    const proposal = proposalFor(model, current?.models[model] ?? null, cuByModel.get(model) ?? null, terms);
    if (proposal) models.push(proposal);
  }
  return { sheet: { effectiveFromMs, models: Object.fromEntries(models.map((m) => [m.model, m.proposed])) }, models };
}
