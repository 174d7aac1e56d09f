import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../prices.ts';
import { PriceHistoryChart, timeDomain } from './PriceHistoryChart.tsx';

const dayMs = 86_400_000;
const now = Date.parse('2025-01-02T12:00:00Z');
const points: HistoryPoint[] = [
  {
    effectiveFrom: '1970-01-01T00:00:00.000Z',
    epoch: 0,
    hash: '0xa',
    price: { kind: 'text', inputPer1M: '1', outputPer1M: '4' },
    override: null,
  },
  {
    effectiveFrom: '2025-01-03T00:00:00.000Z',
    epoch: 20_091,
    hash: '0xb',
    price: { kind: 'text', inputPer1M: '1.2', outputPer1M: '4.8' },
    override: { reason: 'upstream' },
  },
];

const circles = (svg: string) =>
  [...svg.matchAll(/<circle[^>]*>/g)].map((m) => ({
    field: / data-field="([^"]+)"/.exec(m[0])![1],
    scheduled: / data-scheduled="([^"]+)"/.exec(m[0])![1],
    cx: Number(/ cx="([^"]+)"/.exec(m[0])![1]),
    cy: Number(/ cy="([^"]+)"/.exec(m[0])![1]),
  }));

describe('PriceHistoryChart', () => {
  it('draws a step per version and field, the announced one dashed and marked scheduled, right of now', () => {
    const svg = renderToStaticMarkup(
      <PriceHistoryChart kind="text" points={points} fields={['inputPer1M', 'outputPer1M']} nowMs={now} width={600} />,
    );
    const drawn = circles(svg);
    expect(drawn.map((c) => [c.field, c.scheduled])).toEqual([
      ['inputPer1M', 'false'],
      ['inputPer1M', 'true'],
      ['outputPer1M', 'false'],
      ['outputPer1M', 'true'],
    ]);
    const nowX = Number(/class="now-line" x1="([^"]+)"/.exec(svg)![1]);
    expect(drawn[0]!.cx).toBeLessThan(nowX);
    expect(drawn[1]!.cx).toBeGreaterThan(nowX);
    // A higher price sits higher (smaller y): output above input, and each rise goes up.
    expect(drawn[2]!.cy).toBeLessThan(drawn[0]!.cy);
    expect(drawn[3]!.cy).toBeLessThan(drawn[2]!.cy);
    expect(svg.match(/class="step scheduled"/g)).toHaveLength(2);
    expect(svg).toContain('aria-label="Price history: Input $ / 1M tokens $1 → $1.2 (scheduled)');
    // The table fallback: one row per version, its status and the override's reason.
    expect(svg.match(/data-testid="history-row"/g)).toHaveLength(2);
    expect(svg).toContain('data-status="scheduled"');
    expect(svg).toContain('override: upstream');
  });

  it('looks back from now and the newest change, not to 1970', () => {
    const tomorrow = Date.parse('2025-01-03T00:00:00Z');
    const { startMs, endMs } = timeDomain([0, tomorrow], now);
    expect(startMs).toBe(now - dayMs);
    expect(endMs).toBe(tomorrow + dayMs);
    // A single old version: the chart starts at it.
    expect(timeDomain([now - 2 * dayMs], now).startMs).toBe(now - 2 * dayMs);
  });
});
