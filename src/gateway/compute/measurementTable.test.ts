import { describe, expect, it } from 'vitest';
import { sampleOf } from './engineSample.ts';
import { createMeasurementTable } from './measurementTable.ts';

describe('measurement table', () => {
  it('keeps one row per (model, provider, kind) and hands out the changed rows once', () => {
    const table = createMeasurementTable();
    table.record(
      sampleOf('m', 'p', 'text', { prefillTokens: 100, prefillSeconds: 0.1, decodeTokens: 10, decodeSeconds: 0.5 }),
      7,
    );
    table.record(sampleOf('m', 'p', 'embedding', { prefillTokens: 8, prefillSeconds: 0.004 }), 8);
    expect(table.takeChanged().map((row) => [row.kind, row.prefillSecondsPerToken, row.decodeSecondsPerToken])).toEqual(
      [
        ['text', 0.001, 0.05],
        ['embedding', 0.0005, null],
      ],
    );
    expect(table.takeChanged()).toEqual([]);
  });

  it('a reading with no tokens changes nothing', () => {
    const table = createMeasurementTable();
    table.record(sampleOf('m', 'p', 'text', {}), 1);
    expect(table.takeChanged()).toEqual([]);
  });

  it('splits a whole answer in the proportion of the stream estimates, and waits for them', () => {
    const table = createMeasurementTable();
    const whole = { model: 'm', provider: 'up', promptTokens: 100, completionTokens: 10, seconds: 4 };
    table.recordWhole(whole, 1);
    expect(table.rows()).toEqual([]);
    table.record(
      sampleOf('m', 'up', 'text', { prefillTokens: 100, prefillSeconds: 1, decodeTokens: 10, decodeSeconds: 1 }),
      2,
    );
    // Expected 100 × 0.01 + 10 × 0.1 = 2 s; it took 4: each phase reads twice its estimate.
    table.recordWhole(whole, 3);
    const [row] = table.rows();
    expect(row).toMatchObject({ samples: 2, prefillSamples: 2, decodeSamples: 2, updatedAtMs: 3 });
    expect(row?.prefillSecondsPerToken).toBeCloseTo(0.015, 12);
    expect(row?.decodeSecondsPerToken).toBeCloseTo(0.15, 12);
  });

  it('loads stored rows without overwriting readings taken since start', () => {
    const table = createMeasurementTable();
    table.record(sampleOf('m', 'p', 'text', { decodeTokens: 1, decodeSeconds: 1 }), 5);
    const [fresh] = table.rows();
    table.load([
      { ...fresh!, decodeSecondsPerToken: 9, samples: 99 },
      { ...fresh!, model: 'other' },
    ]);
    expect(table.rows().map((row) => [row.model, row.decodeSecondsPerToken])).toEqual([
      ['m', 1],
      ['other', 1],
    ]);
  });
});
