/**
 * The sweeper voids reservations whose TTL has passed, so that a crashed request never strands funds. It is safe to
 * run in every replica at once: expiring a reservation is idempotent and each one is expired in its own transaction.
 */
import { ledgerLimits } from './limits.ts';
import type { Ledger } from './types.ts';

export interface SweeperOptions {
  ledger: Ledger;
  intervalMs?: number;
  batchSize?: number;
  /** Sweeper failures are logged and retried next tick, never thrown into the process. */
  onError: (error: unknown) => void;
}

export interface Sweeper {
  /** Expires every reservation due now; returns how many. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startSweeper(options: SweeperOptions): Sweeper {
  const batchSize = options.batchSize ?? ledgerLimits.expireBatchSizeMax;
  let running: Promise<number> | null = null;
  const runOnce = async (): Promise<number> => {
    let total = 0;
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
