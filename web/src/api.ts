/** The gateway's HTTP API, same origin. Every error comes back OpenAI-shaped: `{error:{message,type,code,param}}`. */
import { GatewayError, openAiErrorOf } from '../../src/core/gatewayError.ts';

export interface RequestOptions {
  /** An API key or the operator token, sent as `Authorization: Bearer`. */
  bearer?: string | null;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  json?: unknown;
  accept?: string;
}

async function request(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.json === undefined ? 'GET' : 'POST'),
      headers,
      ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
    });
  } catch (error) {
    throw new GatewayError(`the gateway is unreachable: ${(error as Error).message}`, 0, { code: 'unreachable' });
  }
  if (response.ok) return response;
  throw errorOf(response, await response.text());
}

/** The answer's OpenAI error; a body that is not JSON becomes "<status> <statusText>: <text>". */
function errorOf(response: Response, text: string): GatewayError {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the fallback below
  }
  if (body === null) {
    return new GatewayError(`${response.status} ${response.statusText}: ${text.slice(0, 200)}`, response.status);
  }
  return openAiErrorOf(response.status, body, text);
}

export async function apiJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await (await request(path, options)).json()) as T;
}

export async function apiText(path: string, options: RequestOptions = {}): Promise<string> {
  return (await request(path, options)).text();
}

/** The raw response, for headers such as `x-next-cursor`. */
export function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  return request(path, options);
}

// The shapes the pages read.

export interface Balance {
  canConsume: boolean;
  consumptionCurrency: 'DIEM' | 'USD' | null;
  balances: { diem: number; usd: number; credits: number };
  diemEpochAllocation: number;
  epoch: number;
  nextEpochBegins: string;
}

export interface KeyLimitView {
  /** DIEM covers the DIEM allowance, USD covers credits and USD, TOTAL (perdiem's) covers every source. */
  currency: 'USD' | 'DIEM' | 'TOTAL';
  period: 'EPOCH' | 'MONTH' | 'LIFETIME';
  amount: string;
  covers: ('DIEM' | 'CREDITS' | 'USD')[];
  /** What is left this period, when the gateway reports it (key listings do). */
  remaining?: string;
}

export interface ApiKeyView {
  id: string;
  apiKeyType: 'INFERENCE' | 'ADMIN';
  description: string;
  /** The secret's last 6 characters; null for keys made before they were recorded. */
  last6Chars: string | null;
  /** The secret's first characters. */
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  allowedModels: string[] | null;
  limits: KeyLimitView[];
}

export interface CreatedKey extends ApiKeyView {
  apiKey: string;
}

export interface AnalyticsRow {
  group: string;
  currency: string;
  amount: string;
  requests: number;
  units: number;
}

export interface Analytics {
  startDate: string;
  endDate: string;
  byDay: AnalyticsRow[];
  byModel: AnalyticsRow[];
  byKey: AnalyticsRow[];
}

export interface UsageItem {
  id: string;
  requestId: string;
  timestamp: string;
  keyId: string | null;
  model: string;
  sku: string;
  units: number;
  pricePerUnitUsd: string;
  priceUnit: string;
  amount: string;
  currency: string;
  source: string;
  latencyMs: number | null;
  epoch: number;
}

export interface ModelView {
  id: string;
  type?: string;
  model_spec?: { pricing?: unknown };
}
