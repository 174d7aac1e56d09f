/**
 * Operator routes for the durable settings (mounted under /admin, behind the operator token): models and providers
 * with what the operator set for them, rate limits, and every kind's version history. A change is stored before it
 * is in force; bad input is a 400 naming the field, and then nothing is stored.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { InvalidRequestError, NotFoundError } from '../../core/errors.ts';
import {
  type SettingsKind,
  type SettingsNote,
  type SettingsRecord,
  settingsKinds,
} from '../../ledger/settings/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import type { ModelInfo, Provider } from '../providers/index.ts';
import { pricingOf } from '../routes/models.ts';
import { operatorSettingsLimits as limits } from '../settings/limits.ts';
import { type ModelSetting, rateLimitsSchema } from '../settings/settingsJson.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';

/** Who the store records as making changes through these routes (the operator token names no one). */
export const adminActor = 'admin-api';
const note: SettingsNote = { actor: adminActor };

export const providerPatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  priority: z.int().min(-limits.priorityAbsMax).max(limits.priorityAbsMax).optional(),
});

export const modelPatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  /** null removes the override. */
  contextLength: z.int().min(1).max(limits.contextLengthMax).nullable().optional(),
  /** The model this one is a new version of; null removes it. */
  predecessor: z.string().min(1).max(limits.idLengthMax).nullable().optional(),
});

const historyQuerySchema = z.strictObject({
  kind: z.enum(settingsKinds as readonly [SettingsKind, ...SettingsKind[]]),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.int().min(1).max(limits.historyLimitMax))
    .optional(),
});

function recordView(record: SettingsRecord) {
  return {
    version: record.version,
    kind: record.kind,
    value: record.value,
    createdAt: new Date(record.createdAtMs).toISOString(),
    actor: record.actor,
    note: record.note,
  };
}

/** Every model some provider has, disabled ones included, with the providers that have it in configured order. */
function allModels(providers: readonly Provider[]): Map<string, { info: ModelInfo; providers: string[] }> {
  const models = new Map<string, { info: ModelInfo; providers: string[] }>();
  for (const provider of providers) {
    for (const info of provider.listModels()) {
      const found = models.get(info.id);
      if (found) found.providers.push(provider.id);
      else models.set(info.id, { info, providers: [provider.id] });
    }
  }
  return models;
}

function nothingToChange(fields: string): InvalidRequestError {
  return new InvalidRequestError(`nothing to change: give ${fields}`, {
    code: 'missing_required_parameter',
    param: fields.split(' ')[0]!,
  });
}

/** The providers that serve `id` now, in failover order (none when it is disabled or all its providers are). */
function routedProviders(deps: GatewayDeps, id: string): string[] {
  try {
    return deps.registry.providersFor(id).map((provider) => provider.id);
  } catch {
    return [];
  }
}

/** The model's setting after a PATCH: given fields replace, the rest keep their current value. */
function patchedModel(body: z.infer<typeof modelPatchSchema>, current: ModelSetting | undefined): ModelSetting {
  const contextLength = body.contextLength === undefined ? current?.contextLength : body.contextLength;
  const predecessor = body.predecessor === undefined ? current?.predecessor : body.predecessor;
  return {
    enabled: body.enabled ?? current?.enabled ?? true,
    ...(contextLength === null || contextLength === undefined ? {} : { contextLength }),
    ...(predecessor === null || predecessor === undefined ? {} : { predecessor }),
  };
}

/** GET /models and PATCH /models/:id. */
function modelRoutes(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  const { settings } = deps;
  app.get('/models', (c) => {
    const now = deps.clock();
    const data = [...allModels(deps.registry.providers).values()].map(({ info, providers }) => {
      const setting = settings.model(info.id);
      return {
        ...info,
        contextLength: setting?.contextLength ?? info.contextLength,
        enabled: setting?.enabled ?? true,
        providers,
        servedBy: routedProviders(deps, info.id),
        settings: setting ?? null,
        pricing: pricingOf(deps.prices.priceAt(info.id, now)),
      };
    });
    return c.json({ data });
  });

  app.patch('/models/:id{.+}', async (c) => {
    const id = c.req.param('id');
    const model = allModels(deps.registry.providers).get(id);
    if (model === undefined) throw new NotFoundError(`no provider has a model ${id}`, { code: 'model_not_found' });
    const body = parseWith(modelPatchSchema, await readJsonBody(c));
    if (body.enabled === undefined && body.contextLength === undefined && body.predecessor === undefined) {
      throw nothingToChange('enabled contextLength predecessor');
    }
    if (body.predecessor === id) {
      throw new InvalidRequestError('a model cannot be its own predecessor', {
        code: 'invalid_value',
        param: 'predecessor',
      });
    }
    const native = model.info.contextLength;
    if (typeof body.contextLength === 'number' && native !== null && body.contextLength > native) {
      throw new InvalidRequestError(`contextLength may not exceed ${id}'s own context of ${native} tokens`, {
        code: 'invalid_value',
        param: 'contextLength',
      });
    }
    const setting = await settings.updateModel(id, (current) => patchedModel(body, current), note);
    return c.json({ data: { id, ...setting } });
  });
}

/** GET /providers and PATCH /providers/:id. */
function providerRoutes(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  const { settings } = deps;
  app.get('/providers', async (c) => {
    const health = await deps.registry.healthCheck();
    const data = deps.registry.providers.map((provider) => {
      const setting = settings.provider(provider.id);
      return {
        id: provider.id,
        kind: provider.kind,
        enabled: setting?.enabled ?? true,
        priority: setting?.priority ?? provider.priority,
        configuredPriority: provider.priority,
        settings: setting ?? null,
        models: provider.listModels().map((model) => model.id),
        health: health[provider.id],
      };
    });
    return c.json({ data });
  });

  app.patch('/providers/:id{.+}', async (c) => {
    const id = c.req.param('id');
    const provider = deps.registry.providers.find((candidate) => candidate.id === id);
    if (provider === undefined) throw new NotFoundError(`no provider ${id}`, { code: 'provider_not_found' });
    const body = parseWith(providerPatchSchema, await readJsonBody(c));
    if (body.enabled === undefined && body.priority === undefined) throw nothingToChange('enabled priority');
    const setting = await settings.updateProvider(
      id,
      (current) => ({
        enabled: body.enabled ?? current?.enabled ?? true,
        priority: body.priority ?? current?.priority ?? provider.priority,
      }),
      note,
    );
    return c.json({ data: { id, ...setting } });
  });
}

export function settingsRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const { settings } = deps;
  modelRoutes(app, deps);
  providerRoutes(app, deps);

  app.get('/rate-limits', (c) => c.json({ data: settings.rateLimits() }));

  app.put('/rate-limits', async (c) => {
    const next = parseWith(rateLimitsSchema, await readJsonBody(c));
    return c.json({ data: await settings.setRateLimits(next, note) });
  });

  // Back to the defaults the gateway was started with (flags, variables, config file).
  app.delete('/rate-limits', async (c) => c.json({ data: await settings.setRateLimits(null, note) }));

  app.get('/settings/history', async (c) => {
    const query = parseWith(historyQuerySchema, c.req.query());
    const records = await settings.history(query.kind, query.limit ?? limits.historyLimitDefault);
    return c.json({ data: records.map(recordView) });
  });

  return app;
}
