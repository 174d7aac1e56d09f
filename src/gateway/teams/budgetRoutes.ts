/**
 * Project admins, project keys, budgets and reallocations; each needs an ADMIN key of a member's account, and the
 * ledger decides (teamRules) whether that member may make the change. A project key is shown once, in the shape
 * of `POST /api_keys`.
 */
import { Hono } from 'hono';
import { NotFoundError, PerdiemError } from '../../core/errors.ts';
import { formatUsd } from '../../core/money.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { amountNano, limitsOf } from '../keys/keyLimits.ts';
import { requireAdminKey } from '../middleware/auth.ts';
import { expiresOf, keyView, rateLimitsOf } from '../routes/keys.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { createProjectKeySchema, projectAdminSchema, reallocateSchema, setBudgetSchema } from './teamsSchemas.ts';
import { budgetView, projectView } from './teamsViews.ts';

/**
 * A ledger refusal as this API words it: the ledger names amounts in nano-USD (`amountNano`), the API takes and shows
 * USD decimals (`amount`).
 */
function inApiTerms(error: unknown): never {
  if (!(error instanceof PerdiemError) || error.param !== 'amountNano') throw error;
  const message = error.message.replace(/(\d+) nano-USD/g, (_, nano: string) => `$${formatUsd(BigInt(nano))}`);
  const Refusal = error.constructor as new (
    message: string,
    options: ConstructorParameters<typeof NotFoundError>[1],
  ) => PerdiemError;
  throw new Refusal(message, {
    code: error.code,
    param: 'amount',
    headers: error.headers,
    bodyFields: error.bodyFields,
    cause: error,
  });
}

export function budgetRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const admin = requireAdminKey();

  app.post('/projects/:project/admins', admin, async (c) => {
    const body = parseWith(projectAdminSchema, await readJsonBody(c));
    const project = await deps.ledger.setProjectAdmin(c.get('principal').accountId, c.req.param('project'), body);
    return c.json({ success: true, data: projectView(project) });
  });

  app.post('/projects/:project/keys', admin, async (c) => {
    const body = parseWith(createProjectKeySchema, await readJsonBody(c));
    const expiresAtMs = expiresOf(body.expiresAt, deps.clock());
    const limits = limitsOf(body);
    const rateLimits = rateLimitsOf(body);
    const created = await deps.ledger.createProjectKey(c.get('principal').accountId, {
      projectId: c.req.param('project'),
      name: body.description,
      ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
      ...(body.allowedModels === undefined ? {} : { allowedModels: body.allowedModels }),
      ...(limits === undefined ? {} : { limits }),
      ...(rateLimits === undefined ? {} : { rateLimits }),
    });
    const { key, secret } = created;
    const data = { ...keyView(key), projectId: key.projectId, memberAccountId: key.memberAccountId, apiKey: secret };
    return c.json({ success: true, data }, 201);
  });

  app.put('/budgets', admin, async (c) => {
    const body = parseWith(setBudgetSchema, await readJsonBody(c));
    const budget = await deps.ledger
      .setBudget(c.get('principal').accountId, {
        scopeId: body.scopeId,
        currency: body.currency,
        period: body.period,
        amountNano: body.amount === null ? null : amountNano(body.amount, 'amount'),
        ...(body.alertThresholds === undefined ? {} : { alertThresholds: body.alertThresholds }),
      })
      .catch(inApiTerms);
    return c.json({ success: true, data: budget === null ? null : budgetView(budget) });
  });

  app.post('/orgs/:org/reallocations', admin, async (c) => {
    const body = parseWith(reallocateSchema, await readJsonBody(c));
    const actor = c.get('principal').accountId;
    const orgId = c.req.param('org');
    const inOrg = new Set((await deps.ledger.listProjects(actor, orgId)).map((project) => project.id));
    for (const [param, projectId] of [
      ['fromProjectId', body.fromProjectId],
      ['toProjectId', body.toProjectId],
    ] as const) {
      if (!inOrg.has(projectId)) {
        throw new NotFoundError(`no project ${projectId} in ${orgId}`, { code: 'project_not_found', param });
      }
    }
    const moved = await deps.ledger
      .reallocate(actor, {
        fromProjectId: body.fromProjectId,
        toProjectId: body.toProjectId,
        currency: body.currency,
        period: body.period,
        amountNano: amountNano(body.amount, 'amount'),
      })
      .catch(inApiTerms);
    return c.json({ success: true, data: { from: budgetView(moved.from), to: budgetView(moved.to) } }, 201);
  });
  return app;
}
