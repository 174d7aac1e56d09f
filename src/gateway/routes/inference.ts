/**
 * The OpenAI inference routes, one per request kind (kinds/requestKinds.ts). Each is the chain
 * requestId → auth → validate → rateLimit → quote → reserve → provider → meter → settle: validate is made per kind
 * and hands the handler the request typed by its kind; `runKind` runs the rest.
 */
import { Hono } from 'hono';
import type { ModelPrice } from '../../core/pricing.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { runKind } from '../kinds/flow.ts';
import type { RequestKind, ReservationBounds } from '../kinds/kind.ts';
import { requestKinds } from '../kinds/requestKinds.ts';
import { rateLimitMiddleware } from '../middleware/rateLimit.ts';
import { validateKind } from '../middleware/validate.ts';

function kindRoute<B extends { model: string }, P extends ModelPrice, Q extends ReservationBounds>(
  deps: GatewayDeps,
  kind: RequestKind<B, P, Q>,
  app: Hono<GatewayEnv>,
  limit: ReturnType<typeof rateLimitMiddleware>,
): void {
  app.post(kind.path, validateKind(deps, kind), limit, (c) => runKind(deps, c, kind, c.req.valid('json')));
}

export function inferenceRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const limit = rateLimitMiddleware(deps);
  for (const kind of Object.values(requestKinds)) kindRoute(deps, kind, app, limit);
  return app;
}
