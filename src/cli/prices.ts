/**
 * `perdiem prices list|set|history|calibrate`: the operator's price sheets (/admin/prices, operator token). A sheet
 * version is the whole sheet, so `set` takes the newest version, replaces one model's text price in it and posts the
 * result as a new version: from the next epoch start when it changes a price (the gateway's default), or at
 * --effective-from; past the step bound only with --override --reason. `history` lists the sheets stored in the
 * ledger's database, `history MODEL` one model's price in every version; `calibrate` is in pricesCalibrate.ts.
 */
import { describePrice, modelPriceJsonSchema, priceFromJson } from '../gateway/kinds/priceUnits.ts';
import { parseIsoOption, parseUsdOption } from './amounts.ts';
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { type Gateway, openGateway, operatorOptions, operatorUsage } from './gatewayClient.ts';
import { jsonText, table } from './output.ts';
import { anchorAction, pricesAnchorOptions, pricesAnchorUsage, verifyAction } from './pricesAnchor.ts';
import { calibrate, checkCalibrateFlags, modelHistory } from './pricesCalibrate.ts';

interface SheetJson {
  effectiveFrom: string;
  models: Record<string, Record<string, unknown> & { kind: string }>;
}

function textPrice(values: Values): Record<string, string> {
  const required = (name: string) => {
    const value = stringOption(values, name);
    if (value === undefined) throw new UsageError(`--${name} is required`);
    return parseUsdOption(value, `--${name}`);
  };
  const optional = (name: string) => {
    const value = stringOption(values, name);
    return value === undefined ? undefined : parseUsdOption(value, `--${name}`);
  };
  const cacheRead = optional('cache-read-per-1m');
  const cacheWrite = optional('cache-write-per-1m');
  const reasoning = optional('reasoning-per-1m');
  return {
    kind: 'text',
    inputPer1M: required('input-per-1m'),
    outputPer1M: required('output-per-1m'),
    ...(cacheRead === undefined ? {} : { cacheReadPer1M: cacheRead }),
    ...(cacheWrite === undefined ? {} : { cacheWritePer1M: cacheWrite }),
    ...(reasoning === undefined ? {} : { reasoningPer1M: reasoning }),
  };
}

async function versions(gateway: Gateway): Promise<SheetJson[]> {
  return ((await gateway.request('GET', '/admin/prices')).body as { versions: SheetJson[] }).versions;
}

interface StoredSheet {
  version: number;
  createdAt: string;
  actor: string | null;
  value: SheetJson;
}

async function history(gateway: Gateway, limit: string | undefined): Promise<StoredSheet[]> {
  const query = { kind: 'prices', limit };
  return ((await gateway.request('GET', '/admin/settings/history', { query })).body as { data: StoredSheet[] }).data;
}

function historyTable(records: StoredSheet[]): string {
  if (records.length === 0) return 'no stored price sheets (the gateway runs on its default prices)';
  const rows = records.map((record) => [
    String(record.version),
    record.createdAt,
    record.actor ?? '-',
    record.value.effectiveFrom,
    Object.keys(record.value.models).join(', '),
  ]);
  return table(['VERSION', 'STORED', 'BY', 'EFFECTIVE FROM', 'MODELS'], rows, [0]);
}

/** The price as its unit describes it (kinds/priceUnits.ts); a unit this CLI does not know, as its JSON. */
function priceText(price: Record<string, unknown>): string {
  const parsed = modelPriceJsonSchema.safeParse(price);
  return parsed.success ? describePrice(priceFromJson(parsed.data)) : JSON.stringify(price);
}

function sheetTable(sheet: SheetJson): string {
  const rows = Object.entries(sheet.models).map(([model, price]) => [model, price.kind, priceText(price)]);
  return `effective from ${sheet.effectiveFrom}\n${table(['MODEL', 'KIND', 'PRICE'], rows)}`;
}

function overrideOption(values: Values): { reason: string } | undefined {
  const reason = stringOption(values, 'reason');
  if (values.override !== true) return undefined;
  if (reason === undefined || reason.trim() === '') throw new UsageError('--override needs --reason "why"');
  return { reason };
}

async function set(gateway: Gateway, model: string, values: Values): Promise<SheetJson> {
  const price = textPrice(values);
  const from = stringOption(values, 'effective-from');
  const override = overrideOption(values);
  const latest = (await versions(gateway)).at(-1);
  const sheet = {
    ...(from === undefined ? {} : { effectiveFrom: parseIsoOption(from, '--effective-from') }),
    models: { ...latest?.models, [model]: price },
    ...(override ? { override } : {}),
  };
  return ((await gateway.request('POST', '/admin/prices', { body: sheet })).body as { data: SheetJson }).data;
}

export const pricesCommand: Command = {
  summary: "list the operator's price sheets, set a model's price, or show their stored history (operator token)",
  usage: [
    'usage: perdiem prices list [options]',
    '       perdiem prices history [--limit N] [options]',
    '       perdiem prices history MODEL [options]',
    '       perdiem prices set MODEL --input-per-1m USD --output-per-1m USD [--cache-read-per-1m USD]',
    '                                [--cache-write-per-1m USD] [--reasoning-per-1m USD] [--effective-from ISO]',
    '                                [--override --reason TEXT] [options]',
    '       perdiem prices calibrate [--apply [--override --reason TEXT]] [options]',
    pricesAnchorUsage,
    '',
    "set copies the newest sheet, replaces MODEL's price with a text price, and adds it as a new version.",
    'A change to a priced model takes effect only at the start of a future epoch (by default the next), and',
    'moves each rate at most the step bound unless --override --reason says why (the reason is announced);',
    'a model with no price yet is priced at once. Versions only go forward: requests in flight keep their price.',
    "Sheets are stored in the ledger's database and survive restarts; history lists them, newest first;",
    "history MODEL shows that model's price in every version, oldest first.",
    'calibrate shows the proposed sheet (CU measured × CU price × margin, clamped to the step bound) as a diff;',
    '--apply announces it for the next epoch.',
    '',
    operatorUsage,
  ].join('\n'),
  options: {
    ...operatorOptions,
    'input-per-1m': { type: 'string' },
    'output-per-1m': { type: 'string' },
    'cache-read-per-1m': { type: 'string' },
    'cache-write-per-1m': { type: 'string' },
    'reasoning-per-1m': { type: 'string' },
    'effective-from': { type: 'string' },
    limit: { type: 'string' },
    ...pricesAnchorOptions,
    override: { type: 'boolean' },
    reason: { type: 'string' },
    apply: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    const json = values.json === true;
    if ((action === 'anchor' || action === 'verify') && rest.length === 0) {
      return action === 'anchor' ? anchorAction(values, io) : verifyAction(values, io);
    }
    if (action === 'list' && rest.length === 0) {
      const all = await versions(openGateway(values, io, 'operator'));
      io.out(json ? jsonText(all) : all.map(sheetTable).join('\n\n') || 'no price sheets');
    } else if (action === 'history' && rest.length === 0) {
      const limit = stringOption(values, 'limit');
      if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) throw new UsageError('--limit must be a positive integer');
      const records = await history(openGateway(values, io, 'operator'), limit);
      io.out(json ? jsonText(records) : historyTable(records));
    } else if (action === 'history' && rest.length === 1) {
      io.out(await modelHistory(openGateway(values, io, 'operator'), rest[0]!, json, priceText));
    } else if (action === 'calibrate' && rest.length === 0) {
      checkCalibrateFlags(values); // usage errors before any request
      io.out(await calibrate(openGateway(values, io, 'operator'), values));
    } else if (action === 'set' && rest.length === 1) {
      textPrice(values); // usage errors before any request
      overrideOption(values);
      const sheet = await set(openGateway(values, io, 'operator'), rest[0]!, values);
      io.out(json ? jsonText(sheet) : `${rest[0]}: ${priceText(sheet.models[rest[0]!]!)}, ${sheetTable(sheet)}`);
    } else {
      throw new UsageError(
        action === undefined ? 'missing list, set, history or calibrate' : `bad arguments: ${positionals.join(' ')}`,
      );
    }
    return 0;
  },
};
