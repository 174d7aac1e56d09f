/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the sender signs "<id>.<timestamp>.<body>" with
 * HMAC-SHA256, keyed by the base64 part of the "whsec_…" secret, and sends `webhook-id`, `webhook-timestamp` (unix
 * seconds) and `webhook-signature` ("v1,<base64>", space-separated when there are several). `verifyWebhook` is the
 * receiver's check; any Standard Webhooks library verifies these deliveries too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const secretPrefix = 'whsec_';
const signatureVersion = 'v1';
/** How far a receiver accepts a timestamp from its own clock, by default (the spec's recommendation). */
export const webhookToleranceSecondsDefault = 5 * 60;

function keyOf(secret: string): Buffer {
  return secret.startsWith(secretPrefix)
    ? Buffer.from(secret.slice(secretPrefix.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

function digest(secret: string, id: string, timestampSeconds: number | string, body: string): Buffer {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest();
}

/** The `webhook-signature` header value of one delivery. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `${signatureVersion},${digest(secret, id, timestampSeconds, body).toString('base64')}`;
}

/** The three Standard Webhooks headers (and the content type) of a delivery sent at `timestampSeconds`. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, id, timestampSeconds, body),
  };
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function headerOf(headers: HeaderSource, name: string): string | null {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

/**
 * Whether a delivery is authentic: all three headers present, the timestamp within `toleranceSeconds` of `nowMs`,
 * and one of the `v1` signatures matching the raw body (compared in constant time).
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  body: string,
  toleranceSeconds: number = webhookToleranceSecondsDefault,
  nowMs: number = Date.now(),
): boolean {
  const [id, timestamp, signatures] = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) =>
    headerOf(headers, name),
  );
  if (!id || !timestamp || !signatures || !/^\d{1,15}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = digest(secret, id, timestamp, body);
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== signatureVersion || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
