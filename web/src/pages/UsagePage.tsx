/** Usage: spend by day, by model and by key (usage analytics, 30 days), recent requests, CSV export. */
import { useState } from 'react';
import { dayMs } from '../../../src/core/epoch.ts';
import { type Analytics, type AnalyticsRow, type ApiKeyView, apiJson, apiResponse, type UsageItem } from '../api.ts';
import { type Bar, DayBars, RankBars } from '../components/BarChart.tsx';
import { Measured } from '../components/Measured.tsx';
import { SignInGate } from '../components/SignInGate.tsx';
import { Async, Card, Empty, ErrorNote } from '../components/ui.tsx';
import { formatTime, formatUsdNano, usdToNano } from '../format.ts';
import { useAsync } from '../hooks.ts';
import type { Session } from '../session.ts';

interface Props {
  session: Session | null;
  onSignIn: () => void;
  signingIn: boolean;
}

export function UsagePage(props: Props) {
  return <SignInGate {...props}>{(session) => <Usage session={session} />}</SignInGate>;
}

const historyPageSize = 50;
const csvPageSize = 500;
const csvPagesMax = 40;

/** Every usage row as one CSV, following the cursor pages (at most 20,000 rows). */
async function usageCsv(bearer: string): Promise<string> {
  let csv = '';
  let cursor: string | null = null;
  for (let page = 0; page < csvPagesMax; page++) {
    const query: string = `limit=${csvPageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await apiResponse(`/api/v1/billing/usage-history?${query}`, { bearer, accept: 'text/csv' });
    const text = await response.text();
    csv += page === 0 ? text : text.slice(text.indexOf('\n') + 1);
    cursor = response.headers.get('x-next-cursor');
    if (!cursor) break;
  }
  return csv;
}
const usdText = (value: number) => formatUsdNano(BigInt(Math.round(value * 1e9)));
const amountOf = (row: AnalyticsRow) => Number(usdToNano(row.amount) ?? 0n) / 1e9;

/** Every day of the window, zero where nothing was spent, so gaps show as gaps. */
export function dayBars(analytics: Analytics): Bar[] {
  const spent = new Map(analytics.byDay.map((row) => [row.group, row]));
  const bars: Bar[] = [];
  const start = Date.parse(analytics.startDate.slice(0, 10));
  for (let t = start; t < Date.parse(analytics.endDate); t += dayMs) {
    const day = new Date(t).toISOString().slice(0, 10);
    const row = spent.get(day);
    const value = row ? amountOf(row) : 0;
    bars.push({ label: day.slice(5), value, title: `${day}: ${usdText(value)} in ${row?.requests ?? 0} requests` });
  }
  return bars;
}

function rankBars(rows: AnalyticsRow[], name: (group: string) => string): Bar[] {
  return rows
    .map((row) => ({
      label: name(row.group),
      value: amountOf(row),
      title: `${name(row.group)}: ${row.amount} USD, ${row.requests} requests`,
    }))
    .sort((a, b) => b.value - a.value);
}

function Usage({ session }: { session: Session }) {
  const bearer = session.apiKey;
  const analytics = useAsync(
    () =>
      apiJson<Analytics>(
        `/api/v1/billing/usage-analytics?startDate=${new Date(Date.now() - 30 * dayMs).toISOString()}`,
        { bearer },
      ),
    [bearer],
    15_000,
  );
  const history = useAsync(
    () =>
      apiJson<{ data: UsageItem[]; nextCursor: string | null }>(
        `/api/v1/billing/usage-history?limit=${historyPageSize}`,
        { bearer },
      ),
    [bearer],
    15_000,
  );
  const keys = useAsync(
    async () => (await apiJson<{ data: ApiKeyView[] }>('/api/v1/api_keys', { bearer })).data,
    [bearer],
  );
  const keyName = (id: string) =>
    id === '' ? 'no key' : (keys.data?.find((k) => k.id === id)?.description ?? `${id.slice(0, 8)}… (revoked)`);
  const [exportError, setExportError] = useState<Error | null>(null);

  const exportCsv = async () => {
    setExportError(null);
    try {
      const csv = await usageCsv(bearer);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `perdiem-usage-${new Date().toISOString().slice(0, 10)}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 1_000);
    } catch (error) {
      setExportError(error as Error);
    }
  };

  return (
    <div className="page usage-page">
      <Async state={analytics} what="usage analytics">
        {(a) => (
          <>
            <Card title="Spend by day (last 30 days)">
              {a.byDay.length === 0 ? (
                <Empty>No spend in the last 30 days.</Empty>
              ) : (
                <Measured fallback={1000}>
                  {(width) => <DayBars bars={dayBars(a)} format={usdText} width={width} />}
                </Measured>
              )}
            </Card>
            <div className="grid two">
              <Card title="By model">
                {a.byModel.length === 0 ? (
                  <Empty>No requests yet.</Empty>
                ) : (
                  <Measured fallback={480}>
                    {(width) => <RankBars bars={rankBars(a.byModel, (g) => g)} format={usdText} width={width} />}
                  </Measured>
                )}
              </Card>
              <Card title="By key">
                {a.byKey.length === 0 ? (
                  <Empty>No requests yet.</Empty>
                ) : (
                  <Measured fallback={480}>
                    {(width) => <RankBars bars={rankBars(a.byKey, keyName)} format={usdText} width={width} />}
                  </Measured>
                )}
              </Card>
            </div>
          </>
        )}
      </Async>
      <Card
        title="Recent requests"
        actions={
          <button type="button" className="small" onClick={() => void exportCsv()} data-testid="export-csv">
            Export CSV
          </button>
        }
      >
        {exportError && <ErrorNote error={exportError} />}
        <Async state={history} what="recent requests">
          {(page) =>
            page.data.length === 0 ? (
              <Empty>No requests yet. Create a key on the Account page and call the API with it.</Empty>
            ) : (
              <div className="table-wrap">
                <table className="usage" data-testid="usage-table">
                  <thead>
                    <tr>
                      <th>Time</th>
                      <th>Model</th>
                      <th>Key</th>
                      <th>Item</th>
                      <th className="num">Units</th>
                      <th className="num">Amount</th>
                      <th>Paid from</th>
                      <th className="num">Latency</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((item) => (
                      <tr key={item.id}>
                        <td data-label="Time">{formatTime(item.timestamp)}</td>
                        <td data-label="Model">{item.model}</td>
                        <td data-label="Key">{keyName(item.keyId ?? '')}</td>
                        <td data-label="Item">{item.sku}</td>
                        <td data-label="Units" className="num">
                          {item.units.toLocaleString()}
                        </td>
                        <td data-label="Amount" className="num">
                          {formatUsdNano(usdToNano(item.amount) ?? 0n)}
                        </td>
                        <td data-label="Paid from">{item.source}</td>
                        <td data-label="Latency" className="num">
                          {item.latencyMs === null ? '—' : `${item.latencyMs} ms`}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Async>
      </Card>
    </div>
  );
}
