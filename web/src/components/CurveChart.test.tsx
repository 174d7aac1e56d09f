import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { curvePoints } from '../../../src/core/mintCurve.ts';
import { CurveChart, curveScales, ticks } from './CurveChart.tsx';

const WAD = 10n ** 18n;
const points = curvePoints(50_000n * WAD, 51).map((p) => ({
  supply: Number(p.supplyWei) / 1e18,
  rate: Number(p.rateWad) / 1e18,
}));

function attribute(svg: string, testId: string, name: string): number {
  const element = new RegExp(`<[^>]*data-testid="${testId}"[^>]*>`).exec(svg)?.[0] ?? '';
  return Number(new RegExp(` ${name}="([^"]+)"`).exec(element)?.[1]);
}

describe('CurveChart', () => {
  it('draws the mint curve from the TypeScript mirror, rising from 90 to 665 at the 38,000 DIEM target', () => {
    const at = (supply: number) => points.find((p) => Math.abs(p.supply - supply) < 1e-6)!.rate;
    expect(at(0)).toBeCloseTo(90, 2);
    expect(at(38_000)).toBeCloseTo(665.02, 1);
    const svg = renderToStaticMarkup(<CurveChart points={points} currentSupply={10_000} currentRate={93.34} />);
    const path = /class="curve" d="([^"]+)"/.exec(svg)![1]!;
    expect(path.match(/[ML]/g)).toHaveLength(points.length);
    // Higher rates sit higher on the chart (smaller y).
    const ys = [...path.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys[0]!).toBeGreaterThan(ys.at(-1)!);
  });

  it('marks the current supply at its place on both axes and labels it', () => {
    const { x, y } = curveScales(points, 640, 280);
    const svg = renderToStaticMarkup(<CurveChart points={points} currentSupply={10_000} currentRate={93.34} />);
    expect(attribute(svg, 'current-supply', 'cx')).toBeCloseTo(x(10_000), 5);
    expect(attribute(svg, 'current-supply', 'cy')).toBeCloseTo(y(93.34), 5);
    expect(svg).toContain('now: 10k DIEM @ 93.34');
    expect(svg).toContain('aria-label="Mint rate curve; current supply 10k DIEM at 93.34 sVVV per DIEM"');
  });

  it('moves the marker when the supply changes', () => {
    const before = renderToStaticMarkup(<CurveChart points={points} currentSupply={100} currentRate={90} />);
    const after = renderToStaticMarkup(<CurveChart points={points} currentSupply={25_000} currentRate={158} />);
    expect(attribute(after, 'current-supply', 'cx')).toBeGreaterThan(attribute(before, 'current-supply', 'cx'));
    expect(attribute(after, 'current-supply', 'cy')).toBeLessThan(attribute(before, 'current-supply', 'cy'));
  });

  it('shades the supply a quoted mint would cover, and nothing without a quote', () => {
    const { x } = curveScales(points, 640, 280);
    const quoted = renderToStaticMarkup(
      <CurveChart points={points} currentSupply={10_000} currentRate={93.34} quoteToSupply={12_550} />,
    );
    expect(attribute(quoted, 'quote-band', 'x')).toBeCloseTo(x(10_000), 5);
    expect(attribute(quoted, 'quote-band', 'width')).toBeCloseTo(x(12_550) - x(10_000), 5);
    const plain = renderToStaticMarkup(<CurveChart points={points} currentSupply={10_000} currentRate={93.34} />);
    expect(plain).not.toContain('quote-band');
  });

  it('says so instead of drawing an empty chart', () => {
    expect(renderToStaticMarkup(<CurveChart points={[]} currentSupply={0} currentRate={0} />)).toContain('No curve');
  });

  it('picks round axis ticks', () => {
    expect(ticks(50_000, 5)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(ticks(700, 4)).toEqual([0, 200, 400, 600]);
    expect(ticks(0, 4)).toEqual([0]);
  });
});
