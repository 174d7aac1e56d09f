/**
 * Keeps a SheetGate's view of the chain current: a read every `refreshIntervalMs`, and one `refreshLeadMs` before
 * the next scheduled sheet starts, so an anchored sheet is in force from its first second. A failed read is logged
 * and retried on the next pass; meanwhile the gate answers from what it read last (a sheet never read stays out in
 * refuse mode).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/epoch.ts';
import type { PriceBook } from '../../core/pricing.ts';
import { anchorLimits } from './anchorLimits.ts';
import type { SheetGate } from './sheetGate.ts';

export interface AnchorRefreshOptions {
  gate: SheetGate;
  /** The whole book, scheduled sheets included (the store under the gated one). */
  book: () => PriceBook;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
}

export interface AnchorRefresh {
  /** Reads now; resolves when done (a failure is logged, not thrown). */
  refreshNow(): Promise<void>;
  stop(): void;
}

export function startAnchorRefresh(options: AnchorRefreshOptions): AnchorRefresh {
  const { gate, clock, logger } = options;
  let stopped = false;
  let leadTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  /** Arms one read just before the earliest sheet still to start, and one at its start (the anchor is then final). */
  const armLead = () => {
    clearTimeout(leadTimer);
    const nowMs = clock();
    const next = options.book().versions.find((sheet) => sheet.effectiveFromMs > nowMs);
    if (!next || stopped) return;
    const leadMs = next.effectiveFromMs - anchorLimits.refreshLeadMs;
    const delayMs = (leadMs > nowMs ? leadMs : next.effectiveFromMs) - nowMs;
    // A timer further out than the interval is armed again by a later periodic pass.
    if (delayMs > (options.intervalMs ?? anchorLimits.refreshIntervalMs)) return;
    leadTimer = setTimeout(() => void refreshNow(), delayMs).unref();
  };

  const pass = async () => {
    try {
      await gate.refresh(options.book());
    } catch (error) {
      logger.error({ err: error }, 'reading the price-sheet anchors failed; retrying next pass');
    }
    armLead();
  };

  const refreshNow = () => {
    running = running.then(pass);
    return running;
  };

  const interval = setInterval(() => void refreshNow(), options.intervalMs ?? anchorLimits.refreshIntervalMs).unref();
  void refreshNow();
  return {
    refreshNow,
    stop() {
      stopped = true;
      clearInterval(interval);
      clearTimeout(leadTimer);
    },
  };
}
