/**
 * An organization's budget alerts, with the delivery state of each to each webhook, and its webhooks. Adding a
 * webhook shows its signing secret once; adding and removing need an ADMIN key (and an owner or admin, teamRules).
 */
import { Hono } from 'hono';
import { InvalidRequestError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { requireAdminKey } from '../middleware/auth.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { addWebhookSchema } from './teamsSchemas.ts';
import { alertView, webhookView } from './teamsViews.ts';

export function alertRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const admin = requireAdminKey();

  app.get('/orgs/:org/alerts', async (c) => {
    const alerts = await deps.ledger.listAlerts(c.get('principal').accountId, c.req.param('org'));
    return c.json({ object: 'list', data: alerts.map(({ alert, deliveries }) => alertView(alert, deliveries)) });
  });

  app.get('/orgs/:org/webhooks', async (c) => {
    const webhooks = await deps.ledger.listWebhooks(c.get('principal').accountId, c.req.param('org'));
    return c.json({ object: 'list', data: webhooks.map(webhookView) });
  });

  app.post('/orgs/:org/webhooks', admin, async (c) => {
    const body = parseWith(addWebhookSchema, await readJsonBody(c));
    const created = await deps.ledger.addWebhook(c.get('principal').accountId, c.req.param('org'), body);
    return c.json({ success: true, data: { ...webhookView(created.webhook), secret: created.secret } }, 201);
  });

  const remove = async (actor: string, orgId: string, webhookId: string | undefined) => {
    if (!webhookId) {
      throw new InvalidRequestError('id is required', { code: 'missing_required_parameter', param: 'id' });
    }
    await deps.ledger.removeWebhook(actor, orgId, webhookId);
    return { success: true, data: { id: webhookId } };
  };
  app.delete('/orgs/:org/webhooks/:webhook', admin, async (c) =>
    c.json(await remove(c.get('principal').accountId, c.req.param('org'), c.req.param('webhook'))),
  );
  app.delete('/orgs/:org/webhooks', admin, async (c) =>
    c.json(await remove(c.get('principal').accountId, c.req.param('org'), c.req.query('id'))),
  );
  return app;
}
