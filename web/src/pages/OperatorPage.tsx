/**
 * Operator (operator token): models and prices (edit a price sheet with an effective date), the calibration
 * proposal as a diff with announcing it for the next epoch, each model's price history, providers and their health,
 * and total staked DIEM — the daily liability — against what the gateway has charged.
 */
import { type FormEvent, useState } from 'react';
import type { PublicClient } from 'viem';
import { diemStakingAbi } from '../../../src/chain/generated/contracts.ts';
import { dayMs } from '../../../src/core/epoch.ts';
import {
  describePrice,
  modelPriceJsonSchema,
  priceFromJson,
  priceUnits,
} from '../../../src/gateway/kinds/priceUnits.ts';
import { type Analytics, apiJson } from '../api.ts';
import { DayBars } from '../components/BarChart.tsx';
import { Measured } from '../components/Measured.tsx';
import { Async, Card, Empty, ErrorNote, Stat } from '../components/ui.tsx';
import type { DashboardConfig } from '../config.ts';
import { formatToken, formatUsdNano, parseDecimal, usdToNano } from '../format.ts';
import { useAsync } from '../hooks.ts';
import { PriceHistoryCard, PriceProposalCard } from './operator/PricePanels.tsx';
import { dayBars } from './UsagePage.tsx';

const tokenStorageKey = 'perdiem.operatorToken';

interface AdminModel {
  id: string;
  providers: string[];
  pricing: Record<string, unknown> | null;
}
type ModelPriceJson = { kind: string; inputPer1M?: string; outputPer1M?: string; [field: string]: unknown };
interface PriceSheetJson {
  effectiveFrom: string;
  models: Record<string, ModelPriceJson>;
}
interface ProviderView {
  id: string;
  kind: string;
  priority: number;
  models: string[];
  health?: { ok: boolean; latencyMs: number; detail: string };
}

export function OperatorPage({ config, client }: { config: DashboardConfig; client: PublicClient | null }) {
  const [token, setToken] = useState(() => sessionStorage.getItem(tokenStorageKey) ?? '');
  const [draft, setDraft] = useState('');
  if (!token) {
    return (
      <Card title="Operator sign-in">
        <p className="muted">
          Paste the operator token (<code>operatorToken</code> in <code>.perdiem/state.json</code>). It stays in this
          tab only.
        </p>
        <form
          className="row"
          onSubmit={(event) => {
            event.preventDefault();
            sessionStorage.setItem(tokenStorageKey, draft.trim());
            setToken(draft.trim());
          }}
        >
          <input
            type="password"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="pd-operator-…"
            data-testid="operator-token"
            aria-label="Operator token"
          />
          <button type="submit" disabled={!draft.trim()} data-testid="operator-sign-in">
            Open
          </button>
        </form>
      </Card>
    );
  }
  const forget = () => {
    sessionStorage.removeItem(tokenStorageKey);
    setToken('');
  };
  return <Operator token={token} config={config} client={client} onForget={forget} />;
}

function Operator({
  token,
  config,
  client,
  onForget,
}: {
  token: string;
  config: DashboardConfig;
  client: PublicClient | null;
  onForget: () => void;
}) {
  const bearer = token;
  const models = useAsync(
    async () => (await apiJson<{ data: AdminModel[] }>('/admin/models', { bearer })).data,
    [bearer],
  );
  const prices = useAsync(
    async () => (await apiJson<{ versions: PriceSheetJson[] }>('/admin/prices', { bearer })).versions,
    [bearer],
  );
  const providers = useAsync(
    async () => (await apiJson<{ data: ProviderView[] }>('/admin/providers', { bearer })).data,
    [bearer],
    15_000,
  );
  /** The model's price JSON in the sheet in force now, once the sheets are loaded. */
  const priceJsonNow = (model: string): ModelPriceJson | undefined =>
    [...(prices.data ?? [])]
      .filter((sheet) => Date.parse(sheet.effectiveFrom) <= Date.now())
      .sort((a, b) => Date.parse(b.effectiveFrom) - Date.parse(a.effectiveFrom))[0]?.models[model];
  const [pricesVersion, setPricesVersion] = useState(0);
  /** A sheet was announced or published: every price panel reloads. */
  const pricesChanged = () => {
    setPricesVersion((v) => v + 1);
    void prices.reload();
    void models.reload();
  };
  const denied = [models.error, prices.error, providers.error].some((e) => e && /401|operator|token/i.test(e.message));
  return (
    <div className="page operator-page">
      <div className="wallet-bar">
        <span className="badge">operator</span>
        <button type="button" className="small ghost" onClick={onForget}>
          Forget token
        </button>
      </div>
      {denied && <ErrorNote error={new Error('the gateway refused this operator token')} retry={onForget} />}
      <Liability config={config} client={client} bearer={bearer} />
      <div className="grid two">
        <Card title="Models">
          <Async state={models} what="models">
            {(list) =>
              list.length === 0 ? (
                <Empty>No models are served.</Empty>
              ) : (
                <div className="table-wrap">
                  <table data-testid="models-table">
                    <thead>
                      <tr>
                        <th>Model</th>
                        <th>Providers</th>
                        <th>Price now</th>
                      </tr>
                    </thead>
                    <tbody>
                      {list.map((model) => (
                        <tr key={model.id}>
                          <td data-label="Model">{model.id}</td>
                          <td data-label="Providers">{model.providers.join(', ')}</td>
                          <td data-label="Price now">{describePricing(model.pricing, priceJsonNow(model.id))}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )
            }
          </Async>
        </Card>
        <Card title="Providers">
          <Async state={providers} what="providers">
            {(list) =>
              list.length === 0 ? (
                <Empty>No providers are configured.</Empty>
              ) : (
                <ul className="providers">
                  {list.map((p) => (
                    <li key={p.id} data-testid="provider">
                      <span className={`health ${p.health?.ok ? 'ok' : 'down'}`} aria-hidden="true" />
                      <strong>{p.id}</strong>{' '}
                      <span className="muted">
                        ({p.kind}, priority {p.priority})
                      </span>
                      <div className="small-text">
                        {p.health
                          ? `${p.health.ok ? 'healthy' : 'unhealthy'} · ${p.health.latencyMs} ms · ${p.health.detail}`
                          : 'no health report'}
                      </div>
                      <div className="small-text muted">{p.models.join(', ')}</div>
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </Card>
      </div>
      <div className="stack" data-testid="price-panels">
        <PriceProposalCard bearer={bearer} version={pricesVersion} onAnnounced={pricesChanged} />
        <PriceHistoryCard
          bearer={bearer}
          models={(models.data ?? []).filter((m) => m.pricing !== null).map((m) => m.id)}
          version={pricesVersion}
        />
      </div>
      <Async state={prices} what="price sheets">
        {(versions) => <PriceEditor versions={versions} bearer={bearer} onSaved={pricesChanged} />}
      </Async>
    </div>
  );
}

/** The price in force as its unit describes it (the gateway's kinds/priceUnits.ts); else no price. */
function describePricing(pricing: Record<string, unknown> | null, json: ModelPriceJson | undefined): string {
  if (!pricing) return 'no price';
  const parsed = modelPriceJsonSchema.safeParse(json);
  return parsed.success ? describePrice(priceFromJson(parsed.data)) : '…';
}

/** The fields the operator edits for a price of this kind (none for a kind this page does not know). */
function editableFields(kind: string) {
  return Object.values(priceUnits).find((unit) => unit.kind === kind)?.editable ?? [];
}

/**
 * The daily liability (every staked DIEM is $1 a day) against the fleet's recent daily usage, from the operator's
 * `/admin/usage-analytics` (every account, last 30 days).
 */
function Liability({
  config,
  client,
  bearer,
}: {
  config: DashboardConfig;
  client: PublicClient | null;
  bearer: string;
}) {
  const chain = config.chain;
  const staked = useAsync(
    async () => {
      if (!client || !chain) return null;
      return client.readContract({
        address: chain.contracts.diemStaking,
        abi: diemStakingAbi,
        functionName: 'totalStaked',
      });
    },
    [client, chain],
    15_000,
  );
  const fleet = useAsync(() => apiJson<Analytics>('/admin/usage-analytics', { bearer }), [bearer], 15_000);
  return (
    <>
      <div className="grid three">
        <Card>
          <Async state={staked} what="total staked DIEM">
            {(wei) =>
              wei === null ? (
                <Empty>No chain configured.</Empty>
              ) : (
                <Stat
                  label="Staked DIEM — daily liability"
                  value={`$${formatToken(wei)} / day`}
                  hint={`${formatToken(wei)} DIEM staked on chain ${chain?.chainId}`}
                  testId="liability"
                />
              )
            }
          </Async>
        </Card>
        <Card>
          <Async state={fleet} what="fleet usage">
            {(a) => (
              <Stat
                label="Used today, all accounts"
                value={formatUsdNano(spentOn(a, new Date().toISOString().slice(0, 10)))}
                hint="every funding source (UTC day)"
                testId="fleet-today"
              />
            )}
          </Async>
        </Card>
        <Card>
          <Async state={fleet} what="fleet usage">
            {(a) => (
              <Stat
                label="Daily average, last 7 days"
                value={formatUsdNano(averageOfLastDays(a, 7))}
                hint="all accounts, every funding source"
              />
            )}
          </Async>
        </Card>
      </div>
      <Card title="Fleet usage by day (last 30 days)">
        <Async state={fleet} what="fleet usage">
          {(a) =>
            a.byDay.length === 0 ? (
              <Empty>No usage in the last 30 days.</Empty>
            ) : (
              <Measured fallback={1000}>
                {(width) => (
                  <DayBars bars={dayBars(a)} format={(v) => formatUsdNano(BigInt(Math.round(v * 1e9)))} width={width} />
                )}
              </Measured>
            )
          }
        </Async>
      </Card>
    </>
  );
}

/** Nano-USD spent on one UTC day (YYYY-MM-DD), summed over currencies. */
export function spentOn(analytics: Analytics, day: string): bigint {
  return analytics.byDay
    .filter((row) => row.group === day)
    .reduce((sum, row) => sum + (usdToNano(row.amount) ?? 0n), 0n);
}

/** The mean daily spend over the last `days` UTC days of the window, today included (rounded down). */
export function averageOfLastDays(analytics: Analytics, days: number): bigint {
  const end = Date.parse(analytics.endDate);
  let total = 0n;
  for (let i = 0; i < days; i++) total += spentOn(analytics, new Date(end - 1 - i * dayMs).toISOString().slice(0, 10));
  return total / BigInt(days);
}

function PriceEditor({
  versions,
  bearer,
  onSaved,
}: {
  versions: PriceSheetJson[];
  bearer: string;
  onSaved: () => void;
}) {
  const latest = [...versions].sort((a, b) => Date.parse(b.effectiveFrom) - Date.parse(a.effectiveFrom))[0];
  const [models, setModels] = useState<Record<string, ModelPriceJson>>(() => structuredClone(latest?.models ?? {}));
  /** Empty: the gateway picks the time (the next epoch boundary, or now when only unpriced models get a price). */
  const [effective, setEffective] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (model: string, field: string, value: string) =>
    setModels({ ...models, [model]: { ...models[model]!, [field]: value } });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(null);
    for (const [model, price] of Object.entries(models)) {
      for (const { field } of editableFields(price.kind)) {
        const value = price[field];
        if (typeof value === 'string' && parseDecimal(value, 9) === null) {
          setError(new Error(`${model}: ${field} must be a USD amount with at most 9 decimals`));
          return;
        }
      }
    }
    setBusy(true);
    try {
      const sheet = { ...(effective ? { effectiveFrom: new Date(effective).toISOString() } : {}), models };
      const answer = await apiJson<{ data: { effectiveFrom: string } }>('/admin/prices', { bearer, json: sheet });
      setSaved(answer.data.effectiveFrom);
      onSaved();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="Price sheet">
      <p className="muted">
        Prices are versioned: a new sheet applies to requests that start after its effective date, and requests in
        flight keep their price. A change to a priced model takes effect at an epoch boundary and moves each rate at
        most the step bound.
      </p>
      <ol className="versions" data-testid="price-versions">
        {[...versions]
          .sort((a, b) => Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom))
          .map((version) => (
            <li key={version.effectiveFrom}>
              {Date.parse(version.effectiveFrom) <= 0
                ? 'from the start'
                : `from ${new Date(version.effectiveFrom).toLocaleString()}`}
              {': '}
              {Object.keys(version.models).length} model{Object.keys(version.models).length === 1 ? '' : 's'}
              {Date.parse(version.effectiveFrom) > Date.now() && <span className="badge warn">scheduled</span>}
            </li>
          ))}
      </ol>
      <p className="muted small-text">Edit the newest sheet below and publish it as a new version.</p>
      <form onSubmit={(event) => void submit(event)} className="price-form">
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Model</th>
                <th>Kind</th>
                <th>Prices (USD)</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(models).map(([model, price]) => {
                const fields = editableFields(price.kind);
                return (
                  <tr key={model}>
                    <td data-label="Model">{model}</td>
                    <td data-label="Kind">{price.kind}</td>
                    <td data-label="Prices (USD)">
                      {fields.length === 0 ? (
                        <span className="muted">kept as is</span>
                      ) : (
                        fields.map(({ field, label, name }) => (
                          <label key={field} className="price-field">
                            <span className="field-label">{label}</span>
                            <input
                              inputMode="decimal"
                              value={typeof price[field] === 'string' ? price[field] : ''}
                              onChange={(e) => set(model, field, e.target.value)}
                              aria-label={`${model} ${name} price`}
                            />
                          </label>
                        ))
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <div className="row">
          <label>
            <span className="field-label">Effective from (empty: the next epoch)</span>
            <input
              type="datetime-local"
              value={effective}
              onChange={(e) => setEffective(e.target.value)}
              aria-label="Effective from"
            />
          </label>
          <button type="submit" disabled={busy} data-testid="publish-prices">
            {busy ? 'Saving…' : 'Publish price sheet'}
          </button>
        </div>
        {error && <ErrorNote error={error} />}
        {saved && <p className="ok-note">Published; effective {new Date(saved).toLocaleString()}.</p>}
      </form>
    </Card>
  );
}
