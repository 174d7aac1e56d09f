/** Bar charts in plain SVG: vertical bars over days, horizontal bars for a ranking (by model, by key). */

export interface Bar {
  label: string;
  value: number;
  /** Shown on hover and to screen readers. */
  title: string;
}

export function DayBars({
  bars,
  format,
  width = 1000,
  height = 240,
}: {
  bars: Bar[];
  format: (value: number) => string;
  width?: number;
  height?: number;
}) {
  const margin = { top: 12, right: 8, bottom: 28, left: 78 };
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const slot = innerW / Math.max(bars.length, 1);
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const labelEvery = Math.ceil(bars.length / Math.max(2, Math.floor(innerW / 70)));
  return (
    <svg className="chart day-bars" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Spend by day">
      {[0, 0.5, 1].map((f) => (
        <g key={f} className="grid">
          <line
            x1={margin.left}
            x2={width - margin.right}
            y1={margin.top + innerH * (1 - f)}
            y2={margin.top + innerH * (1 - f)}
          />
          <text x={margin.left - 6} y={margin.top + innerH * (1 - f) + 4} textAnchor="end">
            {format(max * f)}
          </text>
        </g>
      ))}
      {bars.map((bar, i) => {
        const h = (bar.value / max) * innerH;
        const x = margin.left + slot * i + (slot - barW) / 2;
        return (
          <g key={bar.label}>
            <rect
              className="bar"
              x={x}
              y={margin.top + innerH - h}
              width={barW}
              height={Math.max(h, bar.value > 0 ? 1 : 0)}
            >
              <title>{bar.title}</title>
            </rect>
            {i % labelEvery === 0 && (
              <text className="axis-label" x={x + barW / 2} y={height - 8} textAnchor="middle">
                {bar.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

export function RankBars({
  bars,
  format,
  width = 480,
}: {
  bars: Bar[];
  format: (value: number) => string;
  width?: number;
}) {
  const rowH = 28;
  const labelW = Math.min(150, width * 0.35);
  const valueW = 90;
  const labelChars = Math.floor(labelW / 7.5);
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const height = bars.length * rowH;
  return (
    <svg className="chart rank-bars" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Spend ranking">
      {bars.map((bar, i) => {
        const w = ((width - labelW - valueW) * bar.value) / max;
        const y = i * rowH;
        return (
          <g key={bar.label}>
            <text className="rank-label" x={0} y={y + 18}>
              {bar.label.length > labelChars ? `${bar.label.slice(0, labelChars - 1)}…` : bar.label}
            </text>
            <rect
              className="bar"
              x={labelW}
              y={y + 6}
              width={Math.max(w, bar.value > 0 ? 2 : 0)}
              height={rowH - 12}
              rx={3}
            >
              <title>{bar.title}</title>
            </rect>
            <text className="rank-value" x={width} y={y + 18} textAnchor="end">
              {format(bar.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
