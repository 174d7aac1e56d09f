/**
 * The first middleware: names the request, and once it is answered writes one access-log line and the request
 * metrics. Streams log from their own finisher, when the last byte (and the charge) is known.
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { timeOrderedHex } from '../../core/ids.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';

/**
 * `req_` and 32 hex digits: the millisecond first, so that the ledger's (account, idempotency key) index, which takes
 * the request id when the client sends no Idempotency-Key, appends each new reservation at the end of the account's
 * range instead of at a random page; then 80 random bits, which keep ids apart across replicas and within a
 * millisecond. The time is the wall clock, not the injected one: it serves index locality, not billing.
 */
export function newRequestId(): string {
  return `req_${timeOrderedHex(Date.now())}`;
}

export function requestIdMiddleware(deps: GatewayDeps): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const requestId = newRequestId();
    c.set('requestId', requestId);
    c.set('startedAt', performance.now());
    c.set('log', {});
    const headers: Record<string, string> = { 'x-request-id': requestId };
    c.set('headers', headers);
    await next();
    if (c.get('headersApplied') !== true) {
      const out = c.res.headers;
      for (const name in headers) out.set(name, headers[name]!);
    }
    const log = c.get('log');
    if (log.stream && c.res.status === 200) return;
    const latencyMs = performance.now() - c.get('startedAt');
    deps.metrics.observeRequest({ route: routePath(c, -1), status: c.res.status, latencyMs });
    deps.logger.info(
      { requestId, method: c.req.method, path: c.req.path, status: c.res.status, latencyMs, ...log },
      'request',
    );
  };
}
