/**
 * One model's prices over time as a step chart (plain SVG): one line per price field, each step starting at the
 * version's effective-from; a step announced for the future is dashed and its point hollow, marked "scheduled". A
 * table of the same points follows, for screen readers and exact values. Pure: everything comes in as props.
 */
import { fieldLabel, type HistoryPoint, type PriceStep, shortHash, stepsOf } from '../prices.ts';
import { ticks } from './CurveChart.tsx';

export interface PriceHistoryChartProps {
  kind: string;
  points: readonly HistoryPoint[];
  fields: readonly string[];
  nowMs: number;
  width?: number;
  height?: number;
}

const margin = { top: 14, right: 14, bottom: 30, left: 52 };
const dayMsSpan = 86_400_000;
/** How far back the chart looks; older versions are drawn at its left edge. */
const windowMsMax = 60 * dayMsSpan;
/** Closer x labels than this are skipped, so they never overlap. */
const labelGapPxMin = 70;

/** The time span drawn: from a little before the newest changes (or now) to a little past the last one. */
export function timeDomain(times: readonly number[], nowMs: number): { startMs: number; endMs: number } {
  const last = Math.max(nowMs, ...times);
  const recent = times.filter((t) => t >= last - windowMsMax);
  const firstOfInterest = Math.min(nowMs, ...recent);
  const pad = Math.max(dayMsSpan, (last - firstOfInterest) / 10);
  return { startMs: Math.max(Math.min(...times, nowMs), firstOfInterest - pad), endMs: last + pad };
}

/** "$4.8", "$0.0006": enough significant digits for a price axis. */
function formatAxisUsd(value: number): string {
  if (value === 0) return '$0';
  return `$${Number(value.toPrecision(3))}`;
}

function formatDay(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function PriceHistoryChart({ kind, points, fields, nowMs, width = 640, height = 240 }: PriceHistoryChartProps) {
  const series = fields.map((field) => ({ field, steps: stepsOf(points, field, nowMs) }));
  const all = series.flatMap((s) => s.steps);
  if (all.length === 0) return <p className="muted">No prices to draw.</p>;
  const { startMs, endMs } = timeDomain(
    all.map((s) => s.fromMs),
    nowMs,
  );
  const maxValue = Math.max(...all.map((s) => s.value), 0) * 1.15 || 1;
  const innerWidth = width - margin.left - margin.right;
  const innerHeight = height - margin.top - margin.bottom;
  const x = (ms: number) => margin.left + ((Math.max(ms, startMs) - startMs) / (endMs - startMs)) * innerWidth;
  const y = (value: number) => margin.top + innerHeight - (value / maxValue) * innerHeight;
  const bottom = height - margin.bottom;
  const labelTimes = [...new Set(all.map((s) => Math.max(s.fromMs, startMs)))].sort((a, b) => a - b);
  const shownLabels = labelTimes.filter((t, i) => i === 0 || x(t) - x(labelTimes[i - 1]!) >= labelGapPxMin);
  const nowX = x(nowMs);
  return (
    <figure className="price-history">
      <svg
        className="chart price-chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Price history: ${series.map((s) => `${fieldLabel(kind, s.field)} ${stepsSummary(s.steps)}`).join('; ')}`}
        data-testid="price-chart"
      >
        {ticks(maxValue, 4).map((v) => (
          <g key={`y${v}`} className="grid">
            <line x1={margin.left} x2={width - margin.right} y1={y(v)} y2={y(v)} />
            <text x={margin.left - 6} y={y(v) + 4} textAnchor="end">
              {formatAxisUsd(v)}
            </text>
          </g>
        ))}
        {shownLabels.map((t) => (
          <text key={`x${t}`} className="axis-label" x={x(t)} y={bottom + 16} textAnchor="middle">
            {t === startMs && all.some((s) => s.fromMs < startMs) ? 'earlier' : formatDay(t)}
          </text>
        ))}
        <line className="now-line" x1={nowX} x2={nowX} y1={margin.top} y2={bottom} />
        <text className="now-label" x={nowX + 4} y={margin.top + 10}>
          now
        </text>
        {series.map(({ field, steps }, index) => (
          <g key={field} className={`series series-${index % 4}`} data-field={field}>
            {steps.map((step, i) => {
              const x0 = x(step.fromMs);
              const x1 = x(steps[i + 1]?.fromMs ?? endMs);
              const previous = steps[i - 1];
              const d = `M${x0.toFixed(1)},${y(previous?.value ?? step.value).toFixed(1)} V${y(step.value).toFixed(1)} H${x1.toFixed(1)}`;
              return <path key={`s${step.fromMs}`} className={`step${step.scheduled ? ' scheduled' : ''}`} d={d} />;
            })}
            {steps.map((step) => (
              <circle
                key={`p${step.fromMs}`}
                className={`price-point${step.scheduled ? ' scheduled' : ''}`}
                data-testid="price-point"
                data-field={field}
                data-usd={step.usd}
                data-effective-from={new Date(step.fromMs).toISOString()}
                data-scheduled={step.scheduled ? 'true' : 'false'}
                cx={x(step.fromMs)}
                cy={y(step.value)}
                r={4.5}
              >
                <title>{pointTitle(kind, field, step)}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="chart-legend">
        {series.map(({ field }, index) => (
          <span key={field} className={`legend-item series-${index % 4}`}>
            <span className="swatch" aria-hidden="true" /> {fieldLabel(kind, field)}
          </span>
        ))}
        <span className="legend-item scheduled-key">
          <span className="swatch dashed" aria-hidden="true" /> scheduled
        </span>
      </figcaption>
      <PriceHistoryTable kind={kind} points={points} fields={fields} nowMs={nowMs} />
    </figure>
  );
}

function stepsSummary(steps: readonly PriceStep[]): string {
  return steps.map((s) => `$${s.usd}${s.scheduled ? ' (scheduled)' : ''}`).join(' → ');
}

function pointTitle(kind: string, field: string, step: PriceStep): string {
  const when = step.fromMs <= 0 ? 'from the start' : `from ${formatDay(step.fromMs)}`;
  return `${fieldLabel(kind, field)}: $${step.usd} ${when} (epoch ${step.epoch}${step.scheduled ? ', scheduled' : ''})`;
}

/** The chart's points as rows: every version that prices the model, with its hash and whether it is in force. */
export function PriceHistoryTable({ kind, points, fields, nowMs }: Omit<PriceHistoryChartProps, 'width' | 'height'>) {
  const inForce = points.filter((p) => Date.parse(p.effectiveFrom) <= nowMs).at(-1);
  return (
    <div className="table-wrap">
      <table data-testid="price-history-table">
        <caption className="visually-hidden">Every price version of this model, oldest first</caption>
        <thead>
          <tr>
            <th>Effective from</th>
            <th className="num">Epoch</th>
            {fields.map((field) => (
              <th key={field} className="num">
                {fieldLabel(kind, field)}
              </th>
            ))}
            <th>Sheet hash</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {points.map((point) => {
            const fromMs = Date.parse(point.effectiveFrom);
            const status = fromMs > nowMs ? 'scheduled' : point === inForce ? 'in force' : 'past';
            return (
              <tr key={point.effectiveFrom} data-testid="history-row" data-status={status}>
                <td data-label="Effective from">{fromMs <= 0 ? 'from the start' : formatDay(fromMs)}</td>
                <td data-label="Epoch" className="num">
                  {point.epoch}
                </td>
                {fields.map((field) => (
                  <td key={field} data-label={fieldLabel(kind, field)} className="num">
                    {typeof point.price[field] === 'string' ? `$${point.price[field]}` : '—'}
                  </td>
                ))}
                <td data-label="Sheet hash">
                  <code title={point.hash}>{shortHash(point.hash)}</code>
                </td>
                <td data-label="Status">
                  <span className={`badge ${status === 'scheduled' ? 'warn' : status === 'in force' ? 'ok' : ''}`}>
                    {status}
                  </span>
                  {point.override && <span className="small-text muted"> override: {point.override.reason}</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
