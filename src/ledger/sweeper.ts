/**
 * The sweeper expires reservations whose TTL has passed, so that a crashed request never strands funds. Each pass first
 * renews this instance's own live holds (`holdTtlMs`), so a live process's holds never expire however long its requests
 * run, while a dead process's holds expire one TTL after its last pass, swept by any live instance. It is safe to run
 * in every replica at once: each renews only its own holds, and expiring a reservation is idempotent.
 */
import { ledgerLimits } from './limits.ts';
import type { Ledger } from './types.ts';

export interface SweeperOptions {
  ledger: Ledger;
  intervalMs?: number;
  batchSize?: number;
  /**
   * Each pass pushes this instance's live holds to expire this long after it (at least a few intervals, so a slow
   * pass does not let them lapse). Absent: holds keep the TTL they were reserved with.
   */
  holdTtlMs?: number;
  /** Sweeper failures are logged and retried next tick, never thrown into the process. */
  onError: (error: unknown) => void;
}

export interface Sweeper {
  /** Renews this instance's holds (with `holdTtlMs`), then expires every reservation due now; returns how many expired. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startSweeper(options: SweeperOptions): Sweeper {
  const batchSize = options.batchSize ?? ledgerLimits.expireBatchSizeMax;
  let running: Promise<number> | null = null;
  const runOnce = async (): Promise<number> => {
    let total = 0;
    // Renewed before expiring: a hold of this instance that came due since the last pass is still its own, live.
    if (options.holdTtlMs !== undefined) await options.ledger.renewHolds(options.holdTtlMs);
    for (;;) {
      const expired = await options.ledger.expireReservations(batchSize);
      total += expired;
      if (expired < batchSize) return total;
    }
  };
  const tick = () => {
    if (running) return;
    running = runOnce()
      .catch((error: unknown) => {
        options.onError(error);
        return 0;
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, options.intervalMs ?? ledgerLimits.sweepIntervalMsDefault);
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
