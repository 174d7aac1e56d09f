/**
 * The operator's calibration panels: the price proposal as a diff (current → proposed per model and field, with the
 * change, the step bound's clamp and the CU estimate it comes from), announcing it for the next epoch (past the bound
 * only with an override reason), and one model's price history as a step chart with its table.
 */
import { type FormEvent, useState } from 'react';
import { apiJson } from '../../api.ts';
import { Measured } from '../../components/Measured.tsx';
import { PriceHistoryChart } from '../../components/PriceHistoryChart.tsx';
import { Async, Card, Empty, ErrorNote } from '../../components/ui.tsx';
import { formatCountdown } from '../../format.ts';
import { useAsync, useNow } from '../../hooks.ts';
import {
  type Announced,
  changeClass,
  fieldLabel,
  fieldsOf,
  formatChangeBps,
  type PriceHistory,
  type ProposalView,
  type ProposedModel,
  priceFields,
  shortHash,
} from '../../prices.ts';

const usd = (value: unknown) => (typeof value === 'string' ? `$${value}` : '—');

/**
 * The proposal, announcing it, and the sheets announced; `onAnnounced` lets the other panels reload, and a new
 * `version` (a sheet published elsewhere on the page) reloads this one.
 */
export function PriceProposalCard({
  bearer,
  version,
  onAnnounced,
}: {
  bearer: string;
  version: number;
  onAnnounced: () => void;
}) {
  const proposal = useAsync(
    async () => (await apiJson<{ data: ProposalView }>('/admin/prices/proposal', { bearer })).data,
    [bearer, version],
  );
  const scheduled = useAsync(() => scheduledSheets(bearer), [bearer, version]);
  return (
    <Card title="Price proposal" className="price-proposal">
      <Async state={proposal} what="the price proposal">
        {(view) => (
          <>
            <ProposalHeader view={view} />
            <ProposalDiff view={view} />
            <AnnounceForm
              bearer={bearer}
              epoch={view.epoch}
              effectiveFrom={view.effectiveFrom}
              onRefused={() => {
                void proposal.reload();
                void scheduled.reload();
              }}
              onAnnounced={onAnnounced}
            />
          </>
        )}
      </Async>
      {scheduled.data && scheduled.data.length > 0 && <NextSheets sheets={scheduled.data} />}
    </Card>
  );
}

function ProposalHeader({ view }: { view: ProposalView }) {
  const now = useNow();
  const fromMs = Date.parse(view.effectiveFrom);
  return (
    <p className="muted" data-testid="proposal-effective">
      Takes effect at epoch <strong>{view.epoch}</strong>, {new Date(fromMs).toLocaleString()} (in{' '}
      {formatCountdown(fromMs - now)}). Calibrated at ${view.cuPriceUsd} per CU with a {view.marginBps / 100}% margin;
      each rate moves at most ±{view.stepBpsMax / 100}% per epoch.
    </p>
  );
}

function ProposalDiff({ view }: { view: ProposalView }) {
  if (view.models.length === 0) return <Empty>No models to price.</Empty>;
  return (
    <div className="table-wrap">
      <table data-testid="proposal-table" className="proposal-table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Price</th>
            <th className="num">Current</th>
            <th className="num">Proposed</th>
            <th className="num">Change</th>
            <th className="num">CU estimate</th>
            <th className="num">Samples</th>
          </tr>
        </thead>
        <tbody>
          {view.models.flatMap((model) => {
            const fields = fieldsOf(model);
            if (fields.length === 0) return [<NoFieldsRow key={model.model} model={model} />];
            return fields.map((field) => (
              <DiffRow key={`${model.model}/${field}`} model={model} field={field} stepBpsMax={view.stepBpsMax} />
            ));
          })}
        </tbody>
      </table>
    </div>
  );
}

function NoFieldsRow({ model }: { model: ProposedModel }) {
  return (
    <tr data-testid="proposal-row" data-model={model.model}>
      <td data-label="Model">{model.model}</td>
      <td data-label="Price" colSpan={6} className="muted">
        {model.kind} price, kept as is
      </td>
    </tr>
  );
}

function DiffRow({ model, field, stepBpsMax }: { model: ProposedModel; field: string; stepBpsMax: number }) {
  const bps = model.changeBps[field];
  const cuRate = model.cu?.[field as 'inputPer1M' | 'outputPer1M' | 'perImage'];
  return (
    <tr data-testid="proposal-row" data-model={model.model} data-field={field}>
      <td data-label="Model">
        {model.model}
        {model.cu?.inheritedFrom && (
          <div className="small-text muted" data-testid="inherited-from">
            CU inherited from {model.cu.inheritedFrom}
          </div>
        )}
      </td>
      <td data-label="Price">{fieldLabel(model.kind, field)}</td>
      <td data-label="Current" className="num" data-testid="current-price">
        {model.current ? usd(model.current[field]) : <span className="muted">no price</span>}
      </td>
      <td data-label="Proposed" className="num" data-testid="proposed-price">
        {model.proposed ? usd(model.proposed[field]) : '—'}
      </td>
      <td data-label="Change" className="num">
        {bps === undefined ? (
          <span className={model.current === null ? 'badge' : 'muted'}>{model.current === null ? 'new' : '—'}</span>
        ) : (
          <span className={`change ${changeClass(bps)}`} data-testid="change">
            {formatChangeBps(bps)}
          </span>
        )}
        {model.clamped && bps !== undefined && bps !== 0 && (
          <span
            className="badge warn clamped"
            data-testid="clamped"
            title={`The calibrated price is further away; held to the ±${stepBpsMax / 100}% step bound`}
          >
            clamped by the bound
          </span>
        )}
      </td>
      <td data-label="CU estimate" className="num" data-testid="cu-rate">
        {cuRate === undefined ? <span className="muted">not measured</span> : `${cuRate} CU`}
      </td>
      <td data-label="Samples" className="num" data-testid="cu-samples">
        {model.cu ? model.cu.samples : '—'}
      </td>
    </tr>
  );
}

/**
 * Announces the proposal shown, for the epoch shown: if another sheet took that epoch meanwhile, the gateway refuses
 * (price_sheet_out_of_order) rather than announcing a different epoch than the operator saw.
 */
function AnnounceForm({
  bearer,
  epoch,
  effectiveFrom,
  onAnnounced,
  onRefused,
}: {
  bearer: string;
  epoch: number;
  effectiveFrom: string;
  onAnnounced: () => void;
  onRefused: () => void;
}) {
  const [override, setOverride] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const json = { effectiveFrom, ...(override ? { override: { reason: reason.trim() } } : {}) };
      await apiJson<{ data: Announced }>('/admin/prices/announce', { bearer, json });
      setOverride(false);
      setReason('');
      onAnnounced();
    } catch (caught) {
      setError(caught as Error);
      onRefused();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="announce-form" onSubmit={(event) => void submit(event)}>
      <label className="check">
        <input
          type="checkbox"
          checked={override}
          onChange={(e) => setOverride(e.target.checked)}
          data-testid="override-bound"
        />
        Override the bound (announced with a reason holders can read)
      </label>
      {override && (
        <label>
          <span className="field-label">Override reason</span>
          <input
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            maxLength={1_000}
            placeholder="e.g. the upstream doubled its price"
            data-testid="override-reason"
            required
          />
        </label>
      )}
      <div className="row">
        <button type="submit" disabled={busy || (override && reason.trim() === '')} data-testid="announce">
          {busy ? 'Announcing…' : `Announce for next epoch (${epoch})`}
        </button>
      </div>
      {error && <ErrorNote error={error} />}
    </form>
  );
}

/** A sheet announced for a future epoch: when, its hash and an override's reason. */
interface ScheduledSheet {
  effectiveFrom: string;
  epoch: number | null;
  hash: string | null;
  override: { reason: string } | null;
  models: number;
}

/**
 * The sheets that take effect after now, however they were announced (this page, the CLI, auto mode). GET
 * /admin/prices lists them without their epoch and hash, so those come from the history of a model each one prices.
 */
async function scheduledSheets(bearer: string): Promise<ScheduledSheet[]> {
  const { versions } = await apiJson<{ versions: Announced['sheet'][] }>('/admin/prices', { bearer });
  const future = versions.filter((sheet) => Date.parse(sheet.effectiveFrom) > Date.now());
  return Promise.all(
    future.map(async (sheet) => {
      const model = Object.keys(sheet.models)[0];
      const points = model === undefined ? [] : (await historyOf(bearer, model)).points;
      const point = points.find((p) => p.effectiveFrom === sheet.effectiveFrom);
      return {
        effectiveFrom: sheet.effectiveFrom,
        epoch: point?.epoch ?? null,
        hash: point?.hash ?? null,
        override: point?.override ?? null,
        models: Object.keys(sheet.models).length,
      };
    }),
  );
}

async function historyOf(bearer: string, model: string): Promise<PriceHistory> {
  const path = `/admin/prices/history?model=${encodeURIComponent(model)}`;
  return (await apiJson<{ data: PriceHistory }>(path, { bearer })).data;
}

function NextSheets({ sheets }: { sheets: ScheduledSheet[] }) {
  return (
    <ul className="next-sheets" aria-label="Announced price sheets">
      {sheets.map((sheet, i) => (
        <li key={sheet.effectiveFrom} className="next-sheet" data-testid="announced-next">
          <span className={`badge ${i === 0 ? 'warn' : ''}`}>{i === 0 ? 'next' : 'then'}</span> Sheet for epoch{' '}
          {sheet.epoch ?? '?'}, effective {new Date(sheet.effectiveFrom).toLocaleString()}, {sheet.models} model
          {sheet.models === 1 ? '' : 's'}; hash{' '}
          {sheet.hash ? (
            <code title={sheet.hash} data-testid="announced-hash">
              {shortHash(sheet.hash)}
            </code>
          ) : (
            '?'
          )}
          {sheet.override && <> · override: {sheet.override.reason}</>}
        </li>
      ))}
    </ul>
  );
}

/** One model's price history, the model chosen from `models`; reloads whenever `version` changes. */
export function PriceHistoryCard({ bearer, models, version }: { bearer: string; models: string[]; version: number }) {
  const [chosen, setChosen] = useState<string | null>(null);
  const model = chosen ?? models[0] ?? null;
  const now = useNow(60_000);
  const history = useAsync(async () => (model === null ? null : historyOf(bearer, model)), [bearer, model, version]);
  return (
    <Card
      title="Price history"
      actions={
        models.length > 0 && (
          <label className="inline-label">
            <span className="field-label">Model</span>
            <select
              value={model ?? ''}
              onChange={(e) => setChosen(e.target.value)}
              data-testid="history-model"
              aria-label="Model whose price history is shown"
            >
              {models.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
        )
      }
    >
      <Async state={history} what="the price history">
        {(data) => {
          if (data === null || data.points.length === 0) return <Empty>No price versions for this model yet.</Empty>;
          const kind = data.points.at(-1)!.price.kind;
          const fields = [...new Set(data.points.flatMap((p) => priceFields(p.price)))];
          return (
            <Measured fallback={900}>
              {(width) => (
                <PriceHistoryChart
                  kind={kind}
                  points={data.points}
                  fields={fields}
                  nowMs={now}
                  width={width}
                  height={width < 500 ? 220 : 260}
                />
              )}
            </Measured>
          );
        }}
      </Async>
    </Card>
  );
}
