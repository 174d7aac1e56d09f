/**
 * `perdiem prices calibrate` and `perdiem prices history MODEL`: the calibration proposal as a diff table (applied
 * with --apply: announced for the next epoch, past the step bound only with --override --reason), and one model's
 * price in every sheet version. Both read the operator API (/admin/prices/proposal, /announce, /history).
 */
import { UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import type { Gateway } from './gatewayClient.ts';
import { jsonText, table } from './output.ts';

type PriceJson = Record<string, unknown> & { kind: string };

interface ProposalJson {
  epoch: number;
  effectiveFrom: string;
  cuPriceUsd: string;
  marginBps: number;
  stepBpsMax: number;
  models: {
    model: string;
    kind: string;
    current: PriceJson | null;
    proposed: PriceJson;
    changeBps: Record<string, number>;
    clamped: boolean;
    cu: { samples: number; inheritedFrom: string | null } | null;
  }[];
}

interface AnnouncedJson {
  effectiveFrom: string;
  epoch: number;
  hash: string;
  override: { reason: string } | null;
}

interface HistoryJson {
  model: string;
  points: {
    effectiveFrom: string;
    epoch: number;
    hash: string;
    price: PriceJson;
    override: { reason: string } | null;
  }[];
}

/** "+20%", "-12.5%", "0%". */
export function percentText(bps: number): string {
  const percent = `${bps / 100}%`;
  return bps > 0 ? `+${percent}` : percent;
}

const usd = (value: unknown) => (typeof value === 'string' ? `$${value}` : '-');

function diffRows(proposal: ProposalJson): string[][] {
  const rows: string[][] = [];
  for (const m of proposal.models) {
    const clamped = m.clamped ? 'yes' : '';
    if (m.current === null) {
      for (const [field, value] of Object.entries(m.proposed)) {
        if (field !== 'kind') rows.push([m.model, field, '-', usd(value), 'new', clamped]);
      }
    } else if (Object.keys(m.changeBps).length === 0) {
      rows.push([m.model, '-', m.cu === null ? 'no measurements' : 'nothing to calibrate', 'kept', '', '']);
    } else {
      for (const [field, bps] of Object.entries(m.changeBps)) {
        rows.push([m.model, field, usd(m.current[field]), usd(m.proposed[field]), percentText(bps), clamped]);
      }
    }
  }
  return rows;
}

function proposalText(proposal: ProposalJson): string {
  const terms = `CU $${proposal.cuPriceUsd}, margin ${proposal.marginBps} bps, step at most ${proposal.stepBpsMax} bps`;
  const head = `proposal for epoch ${proposal.epoch}, from ${proposal.effectiveFrom} (${terms})`;
  const rows = diffRows(proposal);
  if (rows.length === 0) return `${head}\nno priced or measured models`;
  return `${head}\n${table(['MODEL', 'FIELD', 'CURRENT', 'PROPOSED', 'CHANGE', 'CLAMPED'], rows, [4])}`;
}

function overrideOf(values: Values): { reason: string } | undefined {
  const reason = stringOption(values, 'reason');
  if (values.override !== true) {
    if (reason !== undefined) throw new UsageError('--reason goes with --override');
    return undefined;
  }
  if (reason === undefined || reason.trim() === '') throw new UsageError('--override needs --reason "why"');
  return { reason };
}

/** Checks the flags before any request. */
export function checkCalibrateFlags(values: Values): void {
  const override = overrideOf(values);
  if (override && values.apply !== true) throw new UsageError('--override applies with --apply');
}

export async function calibrate(gateway: Gateway, values: Values): Promise<string> {
  const override = overrideOf(values);
  const proposal = ((await gateway.request('GET', '/admin/prices/proposal')).body as { data: ProposalJson }).data;
  if (values.apply !== true) return values.json === true ? jsonText(proposal) : proposalText(proposal);
  const body = { effectiveFrom: proposal.effectiveFrom, ...(override ? { override } : {}) };
  const answer = await gateway.request('POST', '/admin/prices/announce', { body });
  const announced = (answer.body as { data: AnnouncedJson }).data;
  if (values.json === true) return jsonText({ proposal, announced });
  const notice = announced.override ? ` (override: ${announced.override.reason})` : '';
  return `${proposalText(proposal)}\n\nannounced for epoch ${announced.epoch}, from ${announced.effectiveFrom}: sheet ${announced.hash}${notice}`;
}

function historyTable(history: HistoryJson, describe: (price: PriceJson) => string): string {
  if (history.points.length === 0) return `no sheet prices ${history.model}`;
  const rows = history.points.map((point) => [
    point.effectiveFrom,
    String(point.epoch),
    describe(point.price),
    `${point.hash.slice(0, 10)}…`,
    point.override?.reason ?? '',
  ]);
  return table(['EFFECTIVE FROM', 'EPOCH', 'PRICE', 'SHEET', 'OVERRIDE'], rows, [1]);
}

export async function modelHistory(
  gateway: Gateway,
  model: string,
  json: boolean,
  describe: (price: PriceJson) => string,
): Promise<string> {
  const answer = await gateway.request('GET', '/admin/prices/history', { query: { model } });
  const history = (answer.body as { data: HistoryJson }).data;
  return json ? jsonText(history) : historyTable(history, describe);
}
