/**
 * The mint curve as an SVG line: sVVV per DIEM against DIEM supply, with the current supply marked and, while a mint
 * is being quoted, the supply interval it would cover shaded. Pure: everything comes in as props.
 */
import { formatCompact } from '../format.ts';

export interface CurvePoint {
  /** DIEM supply, whole DIEM. */
  supply: number;
  /** Mint rate at that supply, sVVV per DIEM. */
  rate: number;
}

export interface CurveChartProps {
  points: CurvePoint[];
  /** The DIEM supply now, whole DIEM. */
  currentSupply: number;
  currentRate: number;
  /** The supply after the quoted mint, when one is being quoted. */
  quoteToSupply?: number | undefined;
  width?: number;
  height?: number;
}

const margin = { top: 16, right: 16, bottom: 34, left: 48 };

/** Round tick values covering [0, max]. */
export function ticks(max: number, count: number): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/** Maps data to the chart's pixel space; exported for tests. */
export function curveScales(points: CurvePoint[], width: number, height: number) {
  const maxSupply = Math.max(1, ...points.map((p) => p.supply));
  const maxRate = Math.max(1, ...points.map((p) => p.rate)) * 1.05;
  const innerWidth = width - margin.left - margin.right;
  const innerHeight = height - margin.top - margin.bottom;
  return {
    maxSupply,
    maxRate,
    x: (supply: number) => margin.left + (Math.min(supply, maxSupply) / maxSupply) * innerWidth,
    y: (rate: number) => margin.top + innerHeight - (Math.min(rate, maxRate) / maxRate) * innerHeight,
  };
}

export function CurveChart({
  points,
  currentSupply,
  currentRate,
  quoteToSupply,
  width = 640,
  height = 280,
}: CurveChartProps) {
  if (points.length < 2) return <p className="muted">No curve to draw.</p>;
  const { maxSupply, maxRate, x, y } = curveScales(points, width, height);
  const path = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.supply).toFixed(1)},${y(p.rate).toFixed(1)}`)
    .join(' ');
  const bottom = height - margin.bottom;
  const cx = x(currentSupply);
  const cy = y(currentRate);
  const labelLeft = cx > width * 0.6;
  const quoteEnd = quoteToSupply !== undefined && quoteToSupply > currentSupply ? x(quoteToSupply) : undefined;
  return (
    <svg
      className="chart curve-chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Mint rate curve; current supply ${formatCompact(currentSupply)} DIEM at ${currentRate.toFixed(2)} sVVV per DIEM`}
    >
      {ticks(maxRate, 4).map((v) => (
        <g key={`y${v}`} className="grid">
          <line x1={margin.left} x2={width - margin.right} y1={y(v)} y2={y(v)} />
          <text x={margin.left - 6} y={y(v) + 4} textAnchor="end">
            {formatCompact(v)}
          </text>
        </g>
      ))}
      {ticks(maxSupply, 5).map((v) => (
        <text key={`x${v}`} className="axis-label" x={x(v)} y={bottom + 16} textAnchor="middle">
          {formatCompact(v)}
        </text>
      ))}
      <text className="axis-title" x={width - margin.right} y={height - 2} textAnchor="end">
        DIEM supply
      </text>
      <text className="axis-title" x={4} y={10}>
        sVVV / DIEM
      </text>
      {quoteEnd !== undefined && (
        <rect
          className="quote-band"
          data-testid="quote-band"
          x={cx}
          y={margin.top}
          width={Math.max(1, quoteEnd - cx)}
          height={bottom - margin.top}
        />
      )}
      <path className="curve" d={path} fill="none" />
      <line className="marker-line" x1={cx} x2={cx} y1={margin.top} y2={bottom} />
      <circle className="marker" data-testid="current-supply" cx={cx} cy={cy} r={5} />
      <text
        className="marker-label"
        x={labelLeft ? cx - 8 : cx + 8}
        y={cy - 10}
        textAnchor={labelLeft ? 'end' : 'start'}
      >
        now: {formatCompact(currentSupply)} DIEM @ {currentRate.toFixed(2)}
      </text>
    </svg>
  );
}
