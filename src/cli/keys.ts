/** `perdiem keys list|create|revoke`: the account's API keys (creating and revoking need an ADMIN key). */
import { parseIsoOption, parseUsdOption } from './amounts.ts';
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { type Gateway, GatewayError, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText, keyValues, table } from './output.ts';

interface KeyView {
  id: string;
  apiKeyType: string;
  description: string;
  last6Chars: string;
  createdAt: string;
  expiresAt: string | null;
  allowedModels: string[] | null;
  limits: { currency: string; period: string; amount: string }[];
}

const currencies = ['USD', 'DIEM'];
const periods = ['EPOCH', 'MONTH', 'LIFETIME'];

/** "5:USD" or "5:DIEM:MONTH" → a key limit; the period defaults to EPOCH. */
export function parseLimit(text: string): { amount: string; currency: string; period: string } {
  const [amount = '', currency = '', period = 'EPOCH', ...rest] = text.split(':');
  if (rest.length > 0 || !currencies.includes(currency.toUpperCase()) || !periods.includes(period.toUpperCase())) {
    throw new UsageError(`--limit must be AMOUNT:USD|DIEM[:EPOCH|MONTH|LIFETIME], like 5:USD:EPOCH: ${text}`);
  }
  return {
    amount: parseUsdOption(amount, '--limit amount'),
    currency: currency.toUpperCase(),
    period: period.toUpperCase(),
  };
}

function limitText(key: KeyView): string {
  return key.limits.map((limit) => `${limit.amount} ${limit.currency}/${limit.period}`).join(', ') || '-';
}

function createBody(values: Values) {
  const type = (stringOption(values, 'type') ?? 'INFERENCE').toUpperCase();
  if (type !== 'INFERENCE' && type !== 'ADMIN') throw new UsageError(`--type must be INFERENCE or ADMIN: ${type}`);
  const expires = stringOption(values, 'expires');
  const models = (values.model as string[] | undefined)?.flatMap((list) => list.split(',')).filter(Boolean);
  return {
    apiKeyType: type,
    description: stringOption(values, 'name') ?? 'perdiem cli',
    ...(expires === undefined ? {} : { expiresAt: parseIsoOption(expires, '--expires') }),
    ...(values.limit ? { limits: (values.limit as string[]).map(parseLimit) } : {}),
    ...(models?.length ? { allowedModels: models } : {}),
  };
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
    limitText(key),
    key.allowedModels?.join(',') ?? 'all',
  ]);
  return table(['ID', 'TYPE', 'NAME', 'KEY HINT', 'CREATED', 'EXPIRES', 'LIMITS', 'MODELS'], rows);
}

async function create(gateway: Gateway, body: ReturnType<typeof createBody>, json: boolean): Promise<string> {
  const answer = await gateway.request('POST', '/api/v1/api_keys', { body }).catch((error: unknown) => {
    if (error instanceof GatewayError && error.code === 'admin_key_required') {
      throw new Error(
        [
          error.message,
          '  The key from `perdiem up` is an INFERENCE key: pass an ADMIN key with --api-key. The operator route',
          '  POST /admin/accounts creates a new account with an ADMIN key; no route yet issues one for an existing account.',
        ].join('\n'),
      );
    }
    throw error;
  });
  const key = (answer.body as { data: KeyView & { apiKey: string } }).data;
  if (json) return jsonText(key);
  return [
    keyValues([
      ['id', key.id],
      ['type', key.apiKeyType],
      ['name', key.description],
      ['expires', key.expiresAt ?? 'never'],
      ['limits', limitText(key)],
      ['models', key.allowedModels?.join(', ') ?? 'all'],
      ['secret', key.apiKey],
    ]),
    '',
    'The secret is shown once; store it now.',
  ].join('\n');
}

async function revoke(gateway: Gateway, id: string, json: boolean): Promise<string> {
  await gateway.request('DELETE', '/api/v1/api_keys', { query: { id } });
  return json ? jsonText({ revoked: id }) : `revoked ${id}`;
}

export const keysCommand: Command = {
  summary: 'list, create or revoke API keys',
  usage: [
    'usage: perdiem keys list [options]',
    '       perdiem keys create [--type INFERENCE|ADMIN] [--name TEXT] [--limit AMOUNT:USD|DIEM[:PERIOD]]…',
    '                           [--expires ISO] [--model ID]… [options]',
    '       perdiem keys revoke ID [options]',
    '',
    'create and revoke need an ADMIN key (--api-key).',
    '',
    '  --type T            INFERENCE (default) or ADMIN',
    '  --name TEXT         a description (default "perdiem cli")',
    '  --limit L           a spend limit, e.g. 5:USD (per epoch), 20:DIEM:MONTH, 100:USD:LIFETIME; repeatable',
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
  },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    const json = values.json === true;
    if (action === 'list' && rest.length === 0) {
      io.out(await list(openGateway(values, io, 'api-key'), json));
    } else if (action === 'create' && rest.length === 0) {
      const body = createBody(values); // usage errors before any request
      io.out(await create(openGateway(values, io, 'admin-key'), body, json));
    } else if (action === 'revoke' && rest.length === 1) {
      io.out(await revoke(openGateway(values, io, 'admin-key'), rest[0]!, json));
    } else {
      throw new UsageError(
        action === undefined ? 'missing list, create or revoke' : `bad arguments: ${positionals.join(' ')}`,
      );
    }
    return 0;
  },
};
