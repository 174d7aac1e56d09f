/**
 * A task run every `intervalMs` in the background: a pass never overlaps the one before it, a failed pass goes to
 * `onError` (the next still runs), and `stop` waits for the pass in progress. The timer does not keep the process up.
 */
export interface PeriodicTask<T> {
  /** One pass now, outside the timer (tests and callers that want the result). */
  runOnce(): Promise<T>;
  stop(): Promise<void>;
}

export function startPeriodicTask<T>(
  runOnce: () => Promise<T>,
  options: { intervalMs: number; onError: (error: unknown) => void; runAtStart?: boolean },
): PeriodicTask<T> {
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = runOnce()
      .catch((error: unknown) => options.onError(error))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  if (options.runAtStart) tick();
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
