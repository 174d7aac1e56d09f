/** The one place an error becomes a response: `toOpenAiError` renders it, with its headers (Retry-After, …). */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { InvalidRequestError, NotFoundError, PerdiemError, toOpenAiError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';

export function errorResponse(c: Context, error: unknown): Response {
  const rendered = toOpenAiError(error);
  for (const [name, value] of Object.entries(rendered.headers)) c.header(name, value);
  return c.json(rendered.body, rendered.status as 400);
}

export function errorHandler(deps: GatewayDeps): ErrorHandler<GatewayEnv> {
  return (error, c) => {
    let typed: unknown = error;
    if (error instanceof HTTPException) {
      typed = new InvalidRequestError(error.message || 'bad request', { code: 'bad_request' });
    }
    if (!(typed instanceof PerdiemError)) {
      deps.logger.error({ requestId: c.get('requestId'), err: error }, 'unhandled error');
    } else if (c.get('log')) {
      c.get('log').outcome = typed.code;
    }
    return errorResponse(c, typed);
  };
}

export const notFoundHandler: NotFoundHandler<GatewayEnv> = (c) =>
  errorResponse(c, new NotFoundError(`no route ${c.req.method} ${c.req.path}`, { code: 'unknown_url' }));
