/**
 * Time. An epoch is floor(unixSeconds / epochSeconds), aligned to unix 0 (a UTC day by default). Every function takes
 * the time as an argument; the current time comes from an injected `Clock`, never from `Date.now()` in logic.
 */

/** Milliseconds since the unix epoch. Production passes `Date.now`; tests pass a fake. */
export type Clock = () => number;

/** Time units, named once; every duration in src/ and web/src is built from these. */
export const secondMs = 1_000;
export const minuteSeconds = 60;
export const hourSeconds = 60 * minuteSeconds;
export const daySeconds = 24 * hourSeconds;
export const minuteMs = minuteSeconds * secondMs;
export const hourMs = hourSeconds * secondMs;
export const dayMs = daySeconds * secondMs;

/** The DIEM allowance epoch when a deployment does not set one: a UTC day. */
export const epochSecondsDefault = daySeconds;

function assertTime(unixMs: number, epochSeconds: number): void {
  if (!Number.isSafeInteger(unixMs) || unixMs < 0) throw new RangeError(`invalid time: ${unixMs}`);
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds <= 0)
    throw new RangeError(`invalid epochSeconds: ${epochSeconds}`);
}

/** The epoch containing `unixMs`. */
export function epochAt(unixMs: number, epochSeconds: number = epochSecondsDefault): number {
  assertTime(unixMs, epochSeconds);
  return Math.floor(unixMs / 1000 / epochSeconds);
}

export function epochStartMs(epoch: number, epochSeconds: number = epochSecondsDefault): number {
  return epoch * epochSeconds * 1000;
}

/** When the epoch after the one containing `unixMs` starts, in ms. */
export function nextEpochBeginsMs(unixMs: number, epochSeconds: number = epochSecondsDefault): number {
  return epochStartMs(epochAt(unixMs, epochSeconds) + 1, epochSeconds);
}

/** When the next epoch starts, in ISO-8601 (UTC), as the balance API reports it. */
export function nextEpochBegins(unixMs: number, epochSeconds: number = epochSecondsDefault): string {
  return new Date(nextEpochBeginsMs(unixMs, epochSeconds)).toISOString();
}

/** The last month `monthAt` formatted and the ms range it covers: every reserve asks, almost always the same month. */
let lastMonth = { fromMs: 0, toMs: 0, month: '' };

/** The UTC calendar month containing `unixMs`, as "YYYY-MM" (the MONTH key-limit period). */
export function monthAt(unixMs: number): string {
  if (unixMs >= lastMonth.fromMs && unixMs < lastMonth.toMs) return lastMonth.month;
  const date = new Date(unixMs);
  const month = date.toISOString().slice(0, 7);
  const [year, index] = [date.getUTCFullYear(), date.getUTCMonth()];
  lastMonth = { fromMs: Date.UTC(year, index, 1), toMs: Date.UTC(year, index + 1, 1), month };
  return month;
}

/** The UTC day containing `unixMs`, as "YYYY-MM-DD" (the usage-analytics bucket). */
export function utcDayAt(unixMs: number): string {
  return new Date(unixMs).toISOString().slice(0, 10);
}
