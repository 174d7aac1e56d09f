import type { Clock } from '../../core/epoch.ts';

export interface FakeClock {
  now: Clock;
  advance(ms: number): void;
  set(ms: number): void;
}

/** A clock tests move by hand. */
export function fakeClock(startMs: number): FakeClock {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}
