/** `perdiem usage`: recent usage history (newest first) as a table, JSON or the gateway's CSV. */
import { noArguments, parseIsoOption } from './amounts.ts';
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText, table } from './output.ts';

interface UsageItem {
  requestId: string;
  timestamp: string;
  keyId: string;
  model: string;
  sku: string;
  units: number;
  amount: string;
  currency: string;
  source: string;
  latencyMs: number | null;
}

const pageSizeMax = 500;

function query(values: Values): Record<string, string | undefined> {
  const limit = stringOption(values, 'limit') ?? '20';
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > pageSizeMax) {
    throw new UsageError(`--limit must be an integer from 1 to ${pageSizeMax}: ${limit}`);
  }
  const since = stringOption(values, 'since');
  const until = stringOption(values, 'until');
  return {
    limit,
    model: stringOption(values, 'model'),
    keyId: stringOption(values, 'key'),
    cursor: stringOption(values, 'cursor'),
    startDate: since === undefined ? undefined : parseIsoOption(since, '--since'),
    endDate: until === undefined ? undefined : parseIsoOption(until, '--until'),
  };
}

function usageTable(items: UsageItem[]): string {
  const rows = items.map((item) => [
    item.timestamp.slice(0, 19).replace('T', ' '),
    item.model,
    item.sku,
    String(item.units),
    `$${item.amount}`,
    item.source,
    item.latencyMs === null ? '-' : `${item.latencyMs} ms`,
    item.requestId,
  ]);
  return table(['TIME (UTC)', 'MODEL', 'SKU', 'UNITS', 'AMOUNT', 'SOURCE', 'LATENCY', 'REQUEST'], rows, [3, 4, 6]);
}

export const usageCommand: Command = {
  summary: 'recent usage history (table, --json or --csv)',
  usage: [
    'usage: perdiem usage [--limit N] [--model ID] [--key ID] [--since ISO] [--until ISO] [--cursor C] [--csv]',
    '',
    '  --limit N           rows per page, 1–500 (default 20)',
    '  --model ID          only this model',
    '  --key ID            only this API key',
    '  --since, --until    an ISO-8601 time range',
    '  --cursor C          the next page (printed under the table)',
    "  --csv               the gateway's CSV instead of a table",
    gatewayUsage,
  ].join('\n'),
  options: {
    ...gatewayOptions,
    limit: { type: 'string' },
    model: { type: 'string' },
    key: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    cursor: { type: 'string' },
    csv: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    noArguments(positionals);
    if (values.csv && values.json) throw new UsageError('--csv and --json exclude each other');
    const gateway = openGateway(values, io, 'api-key');
    const path = '/api/v1/billing/usage-history';
    if (values.csv) {
      const answer = await gateway.request('GET', path, { query: query(values), accept: 'text/csv' });
      io.out(String(answer.body).replace(/\n$/, ''));
      return 0;
    }
    const page = (await gateway.request('GET', path, { query: query(values) })).body as {
      data: UsageItem[];
      nextCursor: string | null;
    };
    if (values.json) {
      io.out(jsonText(page));
      return 0;
    }
    io.out(page.data.length === 0 ? 'no usage yet' : usageTable(page.data));
    if (page.nextCursor !== null) io.out(`\nmore: perdiem usage --cursor ${page.nextCursor}`);
    return 0;
  },
};
