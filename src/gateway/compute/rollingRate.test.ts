import { describe, expect, it } from 'vitest';
import { computeLimits } from './limits.ts';
import { withReading } from './rollingRate.ts';

describe('rolling rate', () => {
  it('averages the first readings evenly, then weights new ones at least readingWeightMin', () => {
    let rate = withReading({ secondsPerUnit: null, samples: 0 }, 10, 1);
    rate = withReading(rate, 10, 3);
    expect(rate).toEqual({ secondsPerUnit: 0.2, samples: 2 });
    for (let i = 2; i < 100; i++) rate = withReading(rate, 1, 0.2);
    const moved = withReading(rate, 1, 0.5);
    expect(moved.secondsPerUnit).toBeCloseTo(0.2 + computeLimits.readingWeightMin * 0.3, 12);
  });

  it('ignores a reading with no units or a time that is not a finite number ≥ 0', () => {
    const rate = { secondsPerUnit: 0.5, samples: 3 };
    expect(withReading(rate, 0, 1)).toBe(rate);
    expect(withReading(rate, 4, Number.NaN)).toBe(rate);
    expect(withReading(rate, 4, -1)).toBe(rate);
  });

  it('counts a far-off reading as at most readingClipFactor away once it has readingClipAfterSamples', () => {
    let rate = { secondsPerUnit: null, samples: 0 } as Parameters<typeof withReading>[0];
    for (let i = 0; i < computeLimits.readingClipAfterSamples; i++) rate = withReading(rate, 1, 0.01);
    const stalled = withReading(rate, 1, 10);
    const weight = 1 / (computeLimits.readingClipAfterSamples + 1);
    expect(stalled.secondsPerUnit).toBeCloseTo(0.01 + weight * (0.01 * computeLimits.readingClipFactor - 0.01), 12);
    const early = withReading(withReading({ secondsPerUnit: null, samples: 0 }, 1, 0.01), 1, 10);
    expect(early.secondsPerUnit).toBeCloseTo((0.01 + 10) / 2, 12);
  });
});
