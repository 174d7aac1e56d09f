/**
 * The inference answer with every header the chain gathered, as one plain record: the Node adapter hands it to a
 * single `writeHead`, with no `Headers` object built, filled and copied back out per request.
 */
import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import type { CostObject } from '../metering/meter.ts';
import type { StoredAnswer } from '../metering/storedAnswer.ts';

const jsonHeaders = { 'content-type': 'application/json' } as const;

export function respond(
  c: Context<GatewayEnv>,
  body: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  contentHeaders: Readonly<Record<string, string>>,
): Response {
  c.set('headersApplied', true);
  return new Response(body, { status: 200, headers: { ...c.get('headers'), ...contentHeaders } });
}

export function respondJson(c: Context<GatewayEnv>, body: object): Response {
  return respond(c, JSON.stringify(body), jsonHeaders);
}

/** A whole answer with its cost: in the JSON body, or for bytes (audio), which have no room for it, in no body. */
export function respondAnswer(
  c: Context<GatewayEnv>,
  answer: Exclude<StoredAnswer, { type: 'sse' }>,
  cost: CostObject,
): Response {
  if (answer.type === 'json') return respondJson(c, { ...answer.body, cost });
  return respond(c, Buffer.from(answer.base64, 'base64'), { 'content-type': answer.contentType });
}
