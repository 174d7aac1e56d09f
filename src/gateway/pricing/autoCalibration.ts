/**
 * Automatic calibration (`--auto-calibrate`): on every pass, when no sheet is announced for the next epoch yet and the
 * proposal changes a price, it announces the proposal for the next epoch start, as `POST /admin/prices/announce`
 * would (the same rules: within the step bound, at the boundary). Idempotent across restarts and replicas: the book
 * says whether the next epoch has a sheet, and when two replicas race, the settings store takes one and the other's
 * sheet no longer goes forward (price_sheet_out_of_order), which is the answer "already announced".
 */
import { minuteMs } from '../../core/epoch.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { nextBoundaryMs } from '../../core/priceChange.ts';
import type { PriceSheet } from '../../core/pricing.ts';
import { type PeriodicTask, startPeriodicTask } from '../periodicTask.ts';
import { announceProposal, proposalAt, proposalChangesPrices } from './priceProposal.ts';
import type { PricingDeps } from './scheduleSheet.ts';

export const calibrationIntervalMsDefault = minuteMs;
export const autoCalibrateActor = 'auto-calibrate';

/** Announces the proposal for the next epoch when that epoch has no sheet yet and it changes something. */
export async function calibrateOnce(deps: PricingDeps): Promise<PriceSheet | null> {
  const next = nextBoundaryMs(deps.clock(), deps.epochSeconds);
  const newest = deps.prices.current().versions.at(-1);
  if (newest && newest.effectiveFromMs >= next) return null;
  if (!proposalChangesPrices(proposalAt(deps, next))) return null;
  try {
    return await announceProposal(deps, { effectiveFromMs: next, override: null, actor: autoCalibrateActor });
  } catch (error) {
    if (error instanceof InvalidRequestError && error.code === 'price_sheet_out_of_order') return null;
    throw error;
  }
}

export interface AutoCalibrationOptions {
  deps: PricingDeps;
  /** Default `calibrationIntervalMsDefault`. */
  intervalMs?: number;
  /** Failures are reported and tried again next pass, never thrown into the process. */
  onError: (error: unknown) => void;
  onAnnounce?: (sheet: PriceSheet) => void;
}

export type AutoCalibration = PeriodicTask<PriceSheet | null>;

export function startAutoCalibration(options: AutoCalibrationOptions): AutoCalibration {
  const runOnce = async () => {
    const sheet = await calibrateOnce(options.deps);
    if (sheet) options.onAnnounce?.(sheet);
    return sheet;
  };
  return startPeriodicTask(runOnce, {
    intervalMs: options.intervalMs ?? calibrationIntervalMsDefault,
    onError: options.onError,
    runAtStart: true,
  });
}
