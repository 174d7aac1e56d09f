/**
 * validate, made per request kind: the body against the kind's OpenAI schema, then the model: served (404), able to
 * do this kind of request (400) and allowed for the key (403). Nothing is reserved or rate-limited for a request that
 * fails here. Venice-only fields are dropped from the body here (see each kind's `veniceOnlyFields`).
 *
 * The admitted request (body and admission) leaves as the route's validated `json` input, typed by the kind
 * (`c.req.valid('json')` in the handler); the kind-free `admission` is also set for rateLimit.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { InvalidRequestError, PermissionError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import type { Admitted, AnyRequestKind, RequestKind } from '../kinds/kind.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';

/** Lists the request fields that were accepted but not acted on. */
export const ignoredParamsHeader = 'x-ignored-params';

/** A kind's route input: the request as that kind's validation admitted it. */
export type KindInput<B> = { out: { json: Admitted<B> } };

export function validateKind<B extends { model: string }>(
  deps: GatewayDeps,
  // biome-ignore lint/suspicious/noExplicitAny: only the body type matters to validation.
  kind: RequestKind<B, any, any>,
): MiddlewareHandler<GatewayEnv, string, KindInput<B>> {
  return async (c, next) => {
    const body = parseWith(kind.schema, await readJsonBody(c));
    dropVeniceOnlyFields(c, kind, body);
    const model = body.model;
    c.get('log').model = model;
    const providers = deps.registry.providersFor(model);
    const info = providers[0]!.listModels().find((candidate) => candidate.id === model);
    if (!info?.capabilities.includes(kind.capability)) {
      throw new InvalidRequestError(`${model} does not support ${kind.capability} requests`, {
        code: 'model_not_supported',
        param: 'model',
      });
    }
    const allowed = c.get('principal').key.allowedModels;
    if (allowed !== null && !allowed.includes(model)) {
      throw new PermissionError(`this key may not use ${model}`, { code: 'model_not_allowed', param: 'model' });
    }
    const admission = {
      model,
      providers,
      contextLength: deps.settings.model(model)?.contextLength ?? info.contextLength,
      promptTokensMax: kind.promptTokensMax(body),
      requestedMaxTokens: kind.maxTokens(body),
      stream: 'stream' in body && body.stream === true,
    };
    c.set('admission', admission);
    c.req.addValidatedData('json', { body, admission });
    await next();
  };
}

/** Venice-only fields are accepted, then dropped before the upstream sees them; the answer names those it ignored. */
function dropVeniceOnlyFields(c: Context<GatewayEnv>, kind: AnyRequestKind, body: object): void {
  let ignored = '';
  for (const field of kind.veniceOnlyFields) {
    if (!(field in body)) continue;
    Reflect.deleteProperty(body, field);
    ignored = ignored === '' ? field : `${ignored}, ${field}`;
  }
  if (ignored !== '') c.get('headers')[ignoredParamsHeader] = ignored;
}
