/**
 * How far a price moves from one sheet to the next, and the rules a new sheet must follow when it changes a price
 * that holders already rely on:
 *
 * - a change to a model that already has a price takes effect only at an epoch boundary in the future (announced
 *   ahead, never mid-epoch): `price_sheet_mid_epoch` otherwise;
 * - each of its rates moves at most `stepBpsMax` from the newest sheet (the one in force, or the one already
 *   scheduled): `price_change_exceeds_bound` otherwise, unless the operator overrides the bound with a reason
 *   (still at an epoch boundary);
 * - a model with no price yet may be priced at any time, even mid-epoch: nothing was priced, so nobody relied on it.
 *   Dropping a model's price is a change (it needs the boundary) but not a rate move (the bound does not apply).
 *
 * Pure: the time and the rules are arguments.
 */
import { epochAt, epochStartMs } from './epoch.ts';
import { InvalidRequestError } from './errors.ts';
import type { NanoUsd } from './money.ts';
import type { ModelPrice, PriceBook, PriceSheet } from './pricing.ts';

export const basisPointsPerUnit = 10_000;

export interface PriceChangeRules {
  /** The epoch sheets are aligned to (the DIEM allowance epoch). */
  epochSeconds: number;
  /** The most any rate may move from one sheet to the next, in basis points of the old rate. */
  stepBpsMax: number;
}

/** The operator's override of the bound: allowed only with a reason, which is recorded and announced. */
export interface PriceOverride {
  reason: string;
}

/** Every amount of a price by its JSON field ("inputPer1M", "longContext.outputPer1M", "byResolution.1024x1024"). */
export function rateFieldsOf(price: ModelPrice): Map<string, NanoUsd> {
  const fields = new Map<string, NanoUsd>();
  const put = (name: string, value: NanoUsd | undefined) => {
    if (value !== undefined) fields.set(name, value);
  };
  switch (price.kind) {
    case 'text':
      for (const [prefix, rates] of [
        ['', price],
        ['longContext.', price.longContext],
      ] as const) {
        if (!rates) continue;
        put(`${prefix}inputPer1M`, rates.inputPer1M);
        put(`${prefix}outputPer1M`, rates.outputPer1M);
        put(`${prefix}cacheReadPer1M`, rates.cacheReadPer1M);
        put(`${prefix}cacheWritePer1M`, rates.cacheWritePer1M);
      }
      break;
    case 'image':
      put('perImage', price.perImage);
      for (const [key, value] of Object.entries(price.byResolution ?? {})) put(`byResolution.${key}`, value);
      break;
    case 'embedding':
      put('inputPer1M', price.inputPer1M);
      break;
    case 'speech':
      put('per1MCharacters', price.per1MCharacters);
      break;
  }
  return fields;
}

/** What a price is apart from its amounts: its kind and its long-context threshold. */
function shapeOf(price: ModelPrice): string {
  const threshold = price.kind === 'text' ? (price.longContext?.thresholdTokens ?? null) : null;
  return `${price.kind}:${threshold}:${[...rateFieldsOf(price).keys()].sort().join(',')}`;
}

export function samePrice(a: ModelPrice, b: ModelPrice): boolean {
  if (shapeOf(a) !== shapeOf(b)) return false;
  const bFields = rateFieldsOf(b);
  for (const [field, value] of rateFieldsOf(a)) if (bFields.get(field) !== value) return false;
  return true;
}

/** (next − current) / current in basis points, truncated toward zero; 0 when the current rate is 0. */
export function changeBps(current: NanoUsd, next: NanoUsd): number {
  if (current === 0n) return 0;
  return Number(((next - current) * BigInt(basisPointsPerUnit)) / current);
}

/** True when `next` is within `stepBpsMax` of `current`, exactly: |next − current| × 10⁴ ≤ stepBpsMax × current. */
export function withinStep(current: NanoUsd, next: NanoUsd, stepBpsMax: number): boolean {
  const moved = next > current ? next - current : current - next;
  return moved * BigInt(basisPointsPerUnit) <= BigInt(stepBpsMax) * current;
}

/** A rate that moved past the bound; `changeBps` is null when a rate appeared, vanished or the price changed shape. */
export interface BoundExceeded {
  model: string;
  field: string;
  changeBps: number | null;
}

function exceededIn(model: string, from: ModelPrice, to: ModelPrice, stepBpsMax: number): BoundExceeded[] {
  if (shapeOf(from) !== shapeOf(to)) return [{ model, field: 'kind', changeBps: null }];
  const toFields = rateFieldsOf(to);
  const out: BoundExceeded[] = [];
  for (const [field, current] of rateFieldsOf(from)) {
    const next = toFields.get(field)!;
    if (!withinStep(current, next, stepBpsMax)) {
      out.push({ model, field, changeBps: current === 0n ? null : changeBps(current, next) });
    }
  }
  return out;
}

export interface SheetChange {
  /** Models that had a price whose price this sheet changes or drops: the ones that need an epoch boundary. */
  changed: string[];
  /** Models priced for the first time. */
  added: string[];
  /** Rates moved past the bound (allowed only with an override). */
  exceeded: BoundExceeded[];
}

/** What `sheet` changes against the newest version of `book`. */
export function sheetChangeOf(book: PriceBook, sheet: PriceSheet, stepBpsMax: number): SheetChange {
  const before = book.versions.at(-1)?.models ?? {};
  const change: SheetChange = { changed: [], added: [], exceeded: [] };
  for (const [model, from] of Object.entries(before)) {
    const to = sheet.models[model];
    if (to !== undefined && samePrice(from, to)) continue;
    change.changed.push(model);
    if (to !== undefined) change.exceeded.push(...exceededIn(model, from, to, stepBpsMax));
  }
  for (const model of Object.keys(sheet.models)) if (before[model] === undefined) change.added.push(model);
  return change;
}

/** The first epoch boundary strictly after `nowMs`: the earliest a changed price may take effect. */
export function nextBoundaryMs(nowMs: number, epochSeconds: number): number {
  return epochStartMs(epochAt(nowMs, epochSeconds) + 1, epochSeconds);
}

export function isEpochBoundary(atMs: number, epochSeconds: number): boolean {
  return atMs >= 0 && atMs % (epochSeconds * 1000) === 0;
}

/**
 * Throws a 400 when `sheet` may not be added to `book` at `nowMs` under `rules` (see the module comment); returns
 * what it changes otherwise. `addPriceSheet` still checks the order and the amounts.
 */
export function checkSheetChange(
  book: PriceBook,
  sheet: PriceSheet,
  rules: PriceChangeRules,
  nowMs: number,
  override: PriceOverride | null,
): SheetChange {
  const change = sheetChangeOf(book, sheet, rules.stepBpsMax);
  if (change.changed.length === 0) return change;
  const atBoundary = isEpochBoundary(sheet.effectiveFromMs, rules.epochSeconds);
  if (!atBoundary || sheet.effectiveFromMs <= nowMs) {
    const next = new Date(nextBoundaryMs(nowMs, rules.epochSeconds)).toISOString();
    throw new InvalidRequestError(
      `the sheet changes the price of ${change.changed.join(', ')}: a change takes effect only at the start of a ` +
        `future epoch (the next begins ${next}), not at ${new Date(sheet.effectiveFromMs).toISOString()}`,
      { code: 'price_sheet_mid_epoch', param: 'effectiveFrom' },
    );
  }
  if (change.exceeded.length > 0 && override === null) {
    const shown = change.exceeded
      .slice(0, 3)
      .map((e) => `${e.model} ${e.field} ${e.changeBps === null ? '(changed shape)' : `${e.changeBps} bps`}`);
    throw new InvalidRequestError(
      `a price may move at most ${rules.stepBpsMax} bps per epoch: ${shown.join('; ')}` +
        `${change.exceeded.length > 3 ? ` and ${change.exceeded.length - 3} more` : ''}; override it with a reason`,
      { code: 'price_change_exceeds_bound', param: 'models' },
    );
  }
  return change;
}
