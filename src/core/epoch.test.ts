import { describe, expect, it } from 'vitest';
import { epochAt, epochStartMs, monthAt, nextEpochBegins, nextEpochBeginsMs, utcDayAt } from './epoch.ts';

describe('epoch', () => {
  it('is a UTC day aligned to unix 0 by default', () => {
    const t = Date.UTC(2025, 0, 2, 23, 59, 59, 999);
    expect(epochAt(t)).toBe(20090);
    expect(epochAt(t + 1)).toBe(20091);
    expect(epochStartMs(20091)).toBe(t + 1);
    expect(nextEpochBegins(t)).toBe('2025-01-03T00:00:00.000Z');
  });

  it('honours a configurable epoch length', () => {
    expect(epochAt(119_999, 60)).toBe(1);
    expect(epochAt(120_000, 60)).toBe(2);
    expect(nextEpochBeginsMs(120_000, 60)).toBe(180_000);
  });

  it('names the UTC month and day', () => {
    const t = Date.UTC(2025, 11, 31, 23, 0);
    expect(monthAt(t)).toBe('2025-12');
    expect(utcDayAt(t)).toBe('2025-12-31');
  });

  it('names the month right on both sides of every boundary, in any order of asking', () => {
    const edges = [
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2024, 2, 1),
      Date.UTC(2025, 11, 31, 23, 59, 59, 999),
    ];
    const times = [
      ...edges,
      Date.UTC(2026, 0, 1),
      Date.UTC(2024, 1, 1),
      0,
      Date.UTC(2024, 2, 1) - 1,
      Date.UTC(2026, 0, 1),
    ];
    for (const t of [...times, ...times.reverse()]) {
      expect(monthAt(t)).toBe(new Date(t).toISOString().slice(0, 7));
    }
  });

  it('rejects invalid times and epoch lengths', () => {
    expect(() => epochAt(-1)).toThrow(RangeError);
    expect(() => epochAt(0, 0)).toThrow(RangeError);
  });
});
