/**
 * The gateway's HTTP API as the CLI calls it: base URL and bearer from flags, environment or state.json; OpenAI-shaped
 * errors become one line with the status; a gateway that does not answer is "cannot reach the gateway at …".
 */
import { GatewayError, openAiErrorOf } from '../core/gatewayError.ts';
import type { CliIo, OptionSpec } from './command.ts';
import { UsageError } from './command.ts';
import { homeOptions, loadState, stringOption, type Values } from './context.ts';
import { gatewayRequestTimeoutMs } from './limits.ts';

export const gatewayOptions: OptionSpec = {
  ...homeOptions,
  gateway: { type: 'string' },
  'api-key': { type: 'string' },
};

export const gatewayUsage = [
  '  --gateway URL       the gateway (default: gatewayUrl in .perdiem/state.json)',
  '  --api-key KEY       API key (or PERDIEM_API_KEY; default: the demo key of `perdiem up`)',
  '  --home DIR          where state.json lives (default ./.perdiem)',
  '  --json              machine-readable output',
].join('\n');

export const operatorOptions: OptionSpec = {
  ...homeOptions,
  gateway: { type: 'string' },
  'operator-token': { type: 'string' },
};

export const operatorUsage = [
  '  --gateway URL          the gateway (default: gatewayUrl in .perdiem/state.json)',
  '  --operator-token TOKEN bearer for /admin (or PERDIEM_OPERATOR_TOKEN; default: operatorToken in state.json)',
  '  --home DIR             where state.json lives (default ./.perdiem)',
  '  --json                 machine-readable output',
].join('\n');

export interface Gateway {
  url: string;
  /** Sends one request; JSON answers are parsed, text/csv answers returned as text. */
  request(method: string, path: string, options?: RequestOptions): Promise<GatewayAnswer>;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  accept?: string;
}

export interface GatewayAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * `auth` picks the bearer: the account's API key, an ADMIN key (key management; from `perdiem up` the demo
 * account's ADMIN key), or the operator token for /admin. `--api-key` / PERDIEM_API_KEY override both key kinds.
 */
export function openGateway(values: Values, io: CliIo, auth: 'api-key' | 'admin-key' | 'operator'): Gateway {
  const state = loadState(values, io);
  const url = (stringOption(values, 'gateway') ?? state?.gatewayUrl)?.replace(/\/+$/, '');
  if (url === undefined) throw new UsageError('no gateway: pass --gateway URL or run `perdiem up` first');
  const stateKey = auth === 'admin-key' ? state?.demo?.adminKey : state?.demo?.apiKey;
  const token =
    auth === 'operator'
      ? (stringOption(values, 'operator-token') ?? io.env.PERDIEM_OPERATOR_TOKEN ?? state?.operatorToken)
      : (stringOption(values, 'api-key') ?? io.env.PERDIEM_API_KEY ?? stateKey);
  if (token === undefined) {
    throw new UsageError(
      auth !== 'operator'
        ? 'no API key: pass --api-key, set PERDIEM_API_KEY or run `perdiem up` first'
        : 'no operator token: pass --operator-token, set PERDIEM_OPERATOR_TOKEN or run `perdiem up` first',
    );
  }
  return { url, request: (method, path, options = {}) => send(url, token, method, path, options) };
}

async function send(url: string, token: string, method: string, path: string, options: RequestOptions) {
  const target = new URL(`${url}${path}`);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) target.searchParams.set(name, value);
  }
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    accept: options.accept ?? 'application/json',
  };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(target, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(gatewayRequestTimeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`cannot reach the gateway at ${url}: ${detail}`);
  }
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  const body = isJson && text !== '' ? (JSON.parse(text) as unknown) : text;
  if (!response.ok) throw errorOf(response.status, body);
  return { status: response.status, headers: response.headers, body };
}

/** The one-line error the CLI prints: "gateway answered 402 (insufficient_balance): …". */
function errorOf(status: number, body: unknown): GatewayError {
  const error = openAiErrorOf(status, body, String(body).slice(0, 200) || 'no body');
  const code = error.code ? ` (${error.code})` : '';
  return new GatewayError(`gateway answered ${status}${code}: ${error.message}`, status, error);
}
