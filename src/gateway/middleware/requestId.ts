/**
 * The first middleware: names the request, and once it is answered writes one access-log line and the request
 * metrics. Streams log from their own finisher, when the last byte (and the charge) is known.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { GatewayDeps, GatewayEnv } from '../env.ts';

export function newRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
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
