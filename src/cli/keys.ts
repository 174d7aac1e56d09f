/**
 * `perdiem keys list|limits|create|update|revoke`: the account's API keys (create, update and revoke need an ADMIN
 * key).
 */
import { GatewayError } from '../core/gatewayError.ts';
import { parseIsoOption, parseUsdOption } from './amounts.ts';
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { type Gateway, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText, keyValues, table } from './output.ts';

interface KeyView {
  id: string;
  apiKeyType: string;
  description: string;
  last6Chars: string;
  createdAt: string;
  expiresAt: string | null;
  allowedModels: string[] | null;
  /** `remaining` when the gateway reports what is left of the limit in its current period. */
  limits: LimitView[];
  rateLimits?: { requestsPerMinute: number | null; tokensPerMinute: number | null } | null;
}

interface LimitView {
  currency: string;
  period: string;
  amount: string | number;
  spent?: string | number;
  reserved?: string | number;
  remaining?: string | number;
}

const currencies = ['USD', 'DIEM', 'TOTAL'];
const periods = ['EPOCH', 'MONTH', 'LIFETIME'];

/** What each --limit currency covers, as the help and the errors say it. */
const limitHelp = [
  'AMOUNT:DIEM[:PERIOD] covers the DIEM allowance;',
  'AMOUNT:USD[:PERIOD] covers credits and USD;',
  'AMOUNT:TOTAL[:PERIOD] (perdiem extension) covers every source;',
  'PERIOD is EPOCH (default), MONTH or LIFETIME',
];

/** "5:USD", "5:DIEM:MONTH" or "5:TOTAL:LIFETIME" → a key limit; the period defaults to EPOCH. */
export function parseLimit(text: string): { amount: string; currency: string; period: string } {
  const [amount = '', currency = '', period = 'EPOCH', ...rest] = text.split(':');
  if (rest.length > 0 || !currencies.includes(currency.toUpperCase()) || !periods.includes(period.toUpperCase())) {
    throw new UsageError(`--limit must be AMOUNT:DIEM|USD|TOTAL[:EPOCH|MONTH|LIFETIME], like 5:USD:EPOCH: ${text}`);
  }
  return {
    amount: parseUsdOption(amount, '--limit amount'),
    currency: currency.toUpperCase(),
    period: period.toUpperCase(),
  };
}

/** "5 USD/EPOCH (3.2 left)"; the amount left is shown when the gateway reports it. */
export function limitText(limits: readonly LimitView[]): string {
  const one = (limit: LimitView) => {
    const left = limit.remaining === undefined ? '' : ` (${limit.remaining} left)`;
    return `${limit.amount} ${limit.currency}/${limit.period}${left}`;
  };
  return limits.map(one).join(', ') || '-';
}

function rateLimitText(key: KeyView): string {
  const { requestsPerMinute: rpm = null, tokensPerMinute: tpm = null } = key.rateLimits ?? {};
  const parts = [rpm === null ? '' : `${rpm} rpm`, tpm === null ? '' : `${tpm} tpm`].filter(Boolean);
  return parts.join(', ') || 'default';
}

function perMinuteOption(values: Values, name: 'rpm' | 'tpm'): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(text)) throw new UsageError(`--${name} must be a positive integer: ${text}`);
  return Number(text);
}

/** The fields create and update share: limits, rate-limit overrides, expiry, models; only those given. */
function keyFields(values: Values) {
  const expires = stringOption(values, 'expires');
  const models = (values.model as string[] | undefined)?.flatMap((list) => list.split(',')).filter(Boolean);
  const rpm = perMinuteOption(values, 'rpm');
  const tpm = perMinuteOption(values, 'tpm');
  const rateLimits = {
    ...(rpm === undefined ? {} : { requestsPerMinute: rpm }),
    ...(tpm === undefined ? {} : { tokensPerMinute: tpm }),
  };
  return {
    ...(expires === undefined ? {} : { expiresAt: parseIsoOption(expires, '--expires') }),
    ...(values.limit ? { limits: (values.limit as string[]).map(parseLimit) } : {}),
    ...(rpm === undefined && tpm === undefined ? {} : { rateLimits }),
    ...(models?.length ? { allowedModels: models } : {}),
  };
}

/** The POST /api/v1/api_keys body. */
export function createBody(values: Values) {
  const type = (stringOption(values, 'type') ?? 'INFERENCE').toUpperCase();
  if (type !== 'INFERENCE' && type !== 'ADMIN') throw new UsageError(`--type must be INFERENCE or ADMIN: ${type}`);
  return { apiKeyType: type, description: stringOption(values, 'name') ?? 'perdiem cli', ...keyFields(values) };
}

/** The PATCH /api/v1/api_keys body: what is given changes; --limit replaces the key's limits. */
export function updateBody(id: string, values: Values) {
  if (values.type !== undefined) throw new UsageError('a key keeps its type; create a new key for another');
  const name = stringOption(values, 'name');
  const body = { id, ...(name === undefined ? {} : { description: name }), ...keyFields(values) };
  if (Object.keys(body).length === 1) {
    throw new UsageError('nothing to change: give --name, --limit, --rpm, --tpm, --expires or --model');
  }
  return body;
}

async function list(gateway: Gateway, json: boolean): Promise<string> {
  const keys = ((await gateway.request('GET', '/api/v1/api_keys')).body as { data: KeyView[] }).data;
  if (json) return jsonText(keys);
  const rows = keys.map((key) => [
    key.id,
    key.apiKeyType,
    key.description,
    key.last6Chars,
    key.createdAt.slice(0, 19),
    key.expiresAt?.slice(0, 19) ?? '-',
    limitText(key.limits),
    rateLimitText(key),
    key.allowedModels?.join(',') ?? 'all',
  ]);
  return table(['ID', 'TYPE', 'NAME', 'KEY HINT', 'CREATED', 'EXPIRES', 'LIMITS', 'RATE', 'MODELS'], rows);
}

interface RateLimitsView {
  apiKeyId: string;
  rateLimits: Record<'key' | 'account', Record<'RPM' | 'TPM', { limit: number; remaining: number; reset: string }>>;
  keyLimits?: LimitView[];
  limits?: LimitView[];
}

/** The calling key's limits in force: rate limits and what is left of each spend limit. */
async function limits(gateway: Gateway, json: boolean): Promise<string> {
  const view = ((await gateway.request('GET', '/api/v1/api_keys/rate_limits')).body as { data: RateLimitsView }).data;
  if (json) return jsonText(view);
  const rateRows = (['key', 'account'] as const).flatMap((scope) =>
    (['RPM', 'TPM'] as const).map((unit) => {
      const bucket = view.rateLimits[scope][unit];
      return [scope, unit, String(bucket.limit), String(bucket.remaining), bucket.reset];
    }),
  );
  const spend = view.keyLimits ?? view.limits ?? [];
  const cell = (value: string | number | undefined) => (value === undefined ? '-' : String(value));
  const spendRows = spend.map((limit) => [
    limit.currency,
    limit.period,
    cell(limit.amount),
    cell(limit.spent),
    cell(limit.reserved),
    cell(limit.remaining),
  ]);
  return [
    `key ${view.apiKeyId}`,
    '',
    table(['SCOPE', 'RATE', 'LIMIT', 'REMAINING', 'RESET'], rateRows, [2, 3]),
    '',
    spendRows.length === 0
      ? 'no spend limits on this key'
      : table(['CURRENCY', 'PERIOD', 'AMOUNT', 'SPENT', 'RESERVED', 'REMAINING'], spendRows, [2, 3, 4, 5]),
  ].join('\n');
}

/** An INFERENCE key where an ADMIN key is needed: say which key is used by default and how to pass another. */
function explainAdmin(error: unknown): never {
  if (error instanceof GatewayError && error.code === 'admin_key_required') {
    throw new Error(
      [
        error.message,
        '  The key used is an INFERENCE key. Without --api-key and PERDIEM_API_KEY, `perdiem keys` uses the ADMIN key',
        '  of `perdiem up` (demo.adminKey in .perdiem/state.json); otherwise pass an ADMIN key with --api-key.',
      ].join('\n'),
    );
  }
  throw error;
}

async function create(gateway: Gateway, body: ReturnType<typeof createBody>, json: boolean): Promise<string> {
  const answer = await gateway.request('POST', '/api/v1/api_keys', { body }).catch(explainAdmin);
  const key = (answer.body as { data: KeyView & { apiKey: string } }).data;
  if (json) return jsonText(key);
  return [
    keyValues([
      ['id', key.id],
      ['type', key.apiKeyType],
      ['name', key.description],
      ['expires', key.expiresAt ?? 'never'],
      ['limits', limitText(key.limits)],
      ['rate limits', rateLimitText(key)],
      ['models', key.allowedModels?.join(', ') ?? 'all'],
      ['secret', key.apiKey],
    ]),
    '',
    'The secret is shown once; store it now.',
  ].join('\n');
}

async function update(gateway: Gateway, body: ReturnType<typeof updateBody>, json: boolean): Promise<string> {
  const answer = await gateway.request('PATCH', '/api/v1/api_keys', { body }).catch(explainAdmin);
  const key = (answer.body as { data: KeyView }).data;
  if (json) return jsonText(key);
  return keyValues([
    ['id', key.id],
    ['name', key.description],
    ['expires', key.expiresAt ?? 'never'],
    ['limits', limitText(key.limits)],
    ['rate limits', rateLimitText(key)],
    ['models', key.allowedModels?.join(', ') ?? 'all'],
  ]);
}

async function revoke(gateway: Gateway, id: string, json: boolean): Promise<string> {
  await gateway.request('DELETE', '/api/v1/api_keys', { query: { id } }).catch(explainAdmin);
  return json ? jsonText({ revoked: id }) : `revoked ${id}`;
}

export const keysCommand: Command = {
  summary: 'list, create, update or revoke API keys',
  usage: [
    'usage: perdiem keys list [options]',
    '       perdiem keys limits [options]',
    '       perdiem keys create [--type INFERENCE|ADMIN] [--name TEXT] [--limit AMOUNT:CURRENCY[:PERIOD]]…',
    '                           [--rpm N] [--tpm N] [--expires ISO] [--model ID]… [options]',
    '       perdiem keys update ID [--name TEXT] [--limit …]… [--rpm N] [--tpm N] [--expires ISO] [--model ID]…',
    '       perdiem keys revoke ID [options]',
    '',
    'list shows every key of the account, with what is left of each limit when the gateway reports it; limits',
    "shows the calling key's rate limits and spend limits in force. create, update and revoke need an ADMIN key:",
    'by default the ADMIN key of `perdiem up` (demo.adminKey in .perdiem/state.json), or the one --api-key or',
    'PERDIEM_API_KEY gives.',
    '',
    '  --type T            INFERENCE (default) or ADMIN',
    '  --name TEXT         a description (default "perdiem cli")',
    '  --limit L           a spend limit, repeatable:',
    ...limitHelp.map((line) => `                        ${line}`),
    "                      e.g. 5:USD, 20:DIEM:MONTH, 100:TOTAL:LIFETIME; on update they replace the key's limits",
    '  --rpm N             requests per minute for this key (overrides the gateway default)',
    '  --tpm N             tokens per minute for this key (overrides the gateway default)',
    '  --expires ISO       expiry, e.g. 2030-01-01T00:00:00Z',
    '  --model ID          a model the key may use (repeatable or comma-separated; default: all)',
    gatewayUsage,
  ].join('\n'),
  options: {
    ...gatewayOptions,
    type: { type: 'string' },
    name: { type: 'string' },
    limit: { type: 'string', multiple: true },
    expires: { type: 'string' },
    model: { type: 'string', multiple: true },
    rpm: { type: 'string' },
    tpm: { type: 'string' },
  },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    const json = values.json === true;
    if (action === 'list' && rest.length === 0) {
      io.out(await list(openGateway(values, io, 'api-key'), json));
    } else if (action === 'create' && rest.length === 0) {
      const body = createBody(values); // usage errors before any request
      io.out(await create(openGateway(values, io, 'admin-key'), body, json));
    } else if (action === 'limits' && rest.length === 0) {
      io.out(await limits(openGateway(values, io, 'api-key'), json));
    } else if (action === 'update' && rest.length === 1) {
      const body = updateBody(rest[0]!, values);
      io.out(await update(openGateway(values, io, 'admin-key'), body, json));
    } else if (action === 'revoke' && rest.length === 1) {
      io.out(await revoke(openGateway(values, io, 'admin-key'), rest[0]!, json));
    } else {
      throw new UsageError(
        action === undefined
          ? 'missing list, limits, create, update or revoke'
          : `bad arguments: ${positionals.join(' ')}`,
      );
    }
    return 0;
  },
};
