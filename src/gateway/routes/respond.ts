/**
 * The inference answer with every header the chain gathered, as one plain record: the Node adapter hands it to a
 * single `writeHead`, with no `Headers` object built, filled and copied back out per request.
 */
import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';

const jsonHeaders = { 'content-type': 'application/json' } as const;

export function respond(
  c: Context<GatewayEnv>,
  body: string | ReadableStream<Uint8Array>,
  contentHeaders: Readonly<Record<string, string>>,
): Response {
  c.set('headersApplied', true);
  return new Response(body, { status: 200, headers: { ...c.get('headers'), ...contentHeaders } });
}

export function respondJson(c: Context<GatewayEnv>, body: object): Response {
  return respond(c, JSON.stringify(body), jsonHeaders);
}
