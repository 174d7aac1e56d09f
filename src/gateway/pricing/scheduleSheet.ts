/**
 * The one way the gateway adds a price sheet (POST /admin/prices, POST /admin/prices/announce, automatic
 * calibration): held to the change rules of `core/priceChange.ts` against the freshest book, inside the store's add,
 * so a refused sheet leaves nothing stored. An override's reason is recorded as the version's settings note and
 * read back from it for the announcement.
 */
import { checkSheetChange, nextBoundaryMs, type PriceOverride, sheetChangeOf } from '../../core/priceChange.ts';
import type { PriceSheet } from '../../core/pricing.ts';
import { type PriceSheetJson, priceSheetFromJson, priceSheetToJson } from '../admin/priceSheetJson.ts';
import type { GatewayDeps } from '../env.ts';

export type PricingDeps = Pick<GatewayDeps, 'prices' | 'compute' | 'pricing' | 'clock' | 'epochSeconds'>;

const overridePrefix = 'override: ';

export function overrideNote(override: PriceOverride): string {
  return `${overridePrefix}${override.reason}`;
}

/** The override a version was added with, from its note; null when it kept to the bound. */
export function overrideOf(note: string | null): PriceOverride | null {
  return note?.startsWith(overridePrefix) ? { reason: note.slice(overridePrefix.length) } : null;
}

/** The first epoch boundary after now and after the newest version: where the next change may take effect. */
export function nextChangeAtMs(deps: PricingDeps): number {
  const newest = deps.prices.current().versions.at(-1)?.effectiveFromMs ?? 0;
  return nextBoundaryMs(Math.max(deps.clock(), newest), deps.epochSeconds);
}

/**
 * When a sheet given without a time takes effect: now when it changes no model that has a price (it only prices new
 * ones), else at the next change boundary.
 */
export function defaultEffectiveFromMs(deps: PricingDeps, models: PriceSheet['models']): number {
  const book = deps.prices.current();
  const now = deps.clock();
  const newest = book.versions.at(-1)?.effectiveFromMs ?? -1;
  const probe: PriceSheet = { effectiveFromMs: now, models };
  if (now > newest && sheetChangeOf(book, probe, deps.pricing.stepBpsMax).changed.length === 0) return now;
  return nextChangeAtMs(deps);
}

export interface ScheduleOptions {
  actor: string;
  override: PriceOverride | null;
  /** A note when there is no override (e.g. what the calibration was based on). */
  note?: string;
}

/**
 * Adds `sheet` under the change rules, in the form it is stored and read back (its JSON's), so the hash of what is
 * returned is the hash of what is served; returns that form.
 */
export async function scheduleSheet(
  deps: PricingDeps,
  given: PriceSheet,
  options: ScheduleOptions,
): Promise<PriceSheet> {
  const sheet = priceSheetFromJson(priceSheetToJson(given) as PriceSheetJson);
  const rules = { epochSeconds: deps.epochSeconds, stepBpsMax: deps.pricing.stepBpsMax };
  const note = options.override ? overrideNote(options.override) : (options.note ?? null);
  await deps.prices.add(sheet, { actor: options.actor, note }, (book) => {
    checkSheetChange(book, sheet, rules, deps.clock(), options.override);
  });
  return sheet;
}
