/**
 * validate: the body against the route's OpenAI schema, then the model: served (404), able to do this kind of
 * request (400) and allowed for the key (403). Nothing is reserved or rate-limited for a request that fails here.
 * Venice-only fields are dropped from the body here (see `veniceOnlyFields`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError, PermissionError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import type { Capability } from '../providers/index.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { veniceOnlyFields } from '../validate/schemas.ts';

/** Lists the request fields that were accepted but not acted on. */
export const ignoredParamsHeader = 'x-ignored-params';

export interface InferenceSpec<S extends z.ZodType> {
  schema: S;
  capability: Capability;
  promptTokensMax(body: z.infer<S>): number;
  maxTokens(body: z.infer<S>): number | null;
}

export function validateInference<S extends z.ZodType>(
  deps: GatewayDeps,
  spec: InferenceSpec<S>,
): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const body = parseWith(spec.schema, await readJsonBody(c)) as z.infer<S> & { model: string; stream?: unknown };
    dropVeniceOnlyFields(c, body);
    const model = body.model;
    c.get('log').model = model;
    const providers = deps.registry.providersFor(model);
    const info = providers[0]!.listModels().find((candidate) => candidate.id === model);
    if (!info?.capabilities.includes(spec.capability)) {
      throw new InvalidRequestError(`${model} does not support ${spec.capability} requests`, {
        code: 'model_not_supported',
        param: 'model',
      });
    }
    const allowed = c.get('principal').key.allowedModels;
    if (allowed !== null && !allowed.includes(model)) {
      throw new PermissionError(`this key may not use ${model}`, { code: 'model_not_allowed', param: 'model' });
    }
    c.set('body', body);
    c.set('admission', {
      model,
      providers,
      contextLength: deps.settings.model(model)?.contextLength ?? info.contextLength,
      promptTokensMax: spec.promptTokensMax(body),
      requestedMaxTokens: spec.maxTokens(body),
      stream: body.stream === true,
    });
    await next();
  };
}

/** Venice-only fields are accepted, then dropped before the upstream sees them; the answer names those it ignored. */
function dropVeniceOnlyFields(c: Context<GatewayEnv>, body: Record<string, unknown>): void {
  let ignored = '';
  for (const field of veniceOnlyFields) {
    if (!(field in body)) continue;
    delete body[field];
    ignored = ignored === '' ? field : `${ignored}, ${field}`;
  }
  if (ignored !== '') c.get('headers')[ignoredParamsHeader] = ignored;
}
