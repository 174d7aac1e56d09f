/**
 * The calibration proposal against the gateway's book (`core/calibration.ts`), its JSON for the operator API, and
 * announcing it: the proposed sheet (or a subset of its models over the newest sheet) scheduled for an epoch boundary
 * through `scheduleSheet`, so it is held to the same rules as any other sheet.
 */
import { proposeSheet, type SheetProposal } from '../../core/calibration.ts';
import { epochAt } from '../../core/epoch.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { formatUsd } from '../../core/money.ts';
import { isEpochBoundary, type PriceOverride } from '../../core/priceChange.ts';
import type { ModelPrice, PriceSheet } from '../../core/pricing.ts';
import { modelPriceToJson } from '../admin/priceSheetJson.ts';
import { cuJson } from './computeJson.ts';
import { nextChangeAtMs, type PricingDeps, scheduleSheet } from './scheduleSheet.ts';

/** What calibration proposes now, to take effect at `effectiveFromMs` (default: the next change boundary). */
export function proposalAt(deps: PricingDeps, effectiveFromMs: number = nextChangeAtMs(deps)): SheetProposal {
  const newest = deps.prices.current().versions.at(-1) ?? null;
  return proposeSheet(newest, deps.compute.all(), deps.pricing, effectiveFromMs);
}

const priceJson = (price: ModelPrice | null) => (price === null ? null : modelPriceToJson(price));

/** GET /admin/prices/proposal's `data`. */
export function proposalView(deps: PricingDeps, proposal: SheetProposal) {
  const { effectiveFromMs } = proposal.sheet;
  return {
    epoch: epochAt(effectiveFromMs, deps.epochSeconds),
    effectiveFrom: new Date(effectiveFromMs).toISOString(),
    cuPriceUsd: formatUsd(deps.pricing.cuPriceNano),
    marginBps: deps.pricing.marginBps,
    stepBpsMax: deps.pricing.stepBpsMax,
    models: proposal.models.map((m) => ({
      model: m.model,
      kind: m.kind,
      current: priceJson(m.current),
      proposed: priceJson(m.proposed),
      changeBps: m.changeBps,
      clamped: m.clamped,
      cu: cuJson(m.cu),
    })),
  };
}

/** True when the proposal changes any price or prices a new model. */
export function proposalChangesPrices(proposal: SheetProposal): boolean {
  return proposal.models.some((m) => m.current === null || Object.values(m.changeBps).some((bps) => bps !== 0));
}

export interface Announcement {
  /** Models of the proposal to announce; the others keep their newest price. Default: all of it. */
  models?: readonly string[];
  /** An epoch boundary in the future; default the next change boundary. */
  effectiveFromMs?: number;
  override: PriceOverride | null;
  actor: string;
}

/** Schedules the proposal (or the `models` of it) and returns the sheet added. */
export async function announceProposal(deps: PricingDeps, announcement: Announcement): Promise<PriceSheet> {
  const effectiveFromMs = announcement.effectiveFromMs ?? nextChangeAtMs(deps);
  if (!isEpochBoundary(effectiveFromMs, deps.epochSeconds) || effectiveFromMs <= deps.clock()) {
    throw new InvalidRequestError(
      `effectiveFrom ${new Date(effectiveFromMs).toISOString()} is not the start of a future epoch`,
      { code: 'price_sheet_mid_epoch', param: 'effectiveFrom' },
    );
  }
  const proposal = proposalAt(deps, effectiveFromMs);
  const sheet = announcement.models ? subsetOf(deps, proposal, announcement.models) : proposal.sheet;
  const basis = proposal.models.filter((m) => m.cu !== null).map((m) => `${m.model} (${m.cu!.samples} samples)`);
  return scheduleSheet(deps, sheet, {
    actor: announcement.actor,
    override: announcement.override,
    note: `calibrated from ${basis.join(', ') || 'no measurements'}`,
  });
}

function subsetOf(deps: PricingDeps, proposal: SheetProposal, models: readonly string[]): PriceSheet {
  const proposed = new Map(proposal.models.map((m) => [m.model, m.proposed]));
  const unknown = models.filter((model) => !proposed.has(model));
  if (unknown.length > 0) {
    throw new InvalidRequestError(`not in the proposal: ${unknown.join(', ')}`, {
      code: 'model_not_in_proposal',
      param: 'models',
    });
  }
  const newest = deps.prices.current().versions.at(-1)?.models ?? {};
  const chosen = Object.fromEntries(models.map((model) => [model, proposed.get(model)!]));
  return { effectiveFromMs: proposal.sheet.effectiveFromMs, models: { ...newest, ...chosen } };
}
