/**
 * Operator routes (/admin/*, operator token): prices, accounts, credits and DIEM allowances; models, providers, rate
 * limits and settings history in settingsRoutes.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { epochAt } from '../../core/epoch.ts';
import { NotFoundError } from '../../core/errors.ts';
import { parseUsd } from '../../core/money.ts';
import { measurementJson } from '../compute/measurementJson.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { operatorAuth } from '../middleware/auth.ts';
import { usageAnalyticsView } from '../routes/billing.ts';
import { keyView } from '../routes/keys.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { priceRoutes } from './priceRoutes.ts';
import { priceSheetToJson } from './priceSheetJson.ts';
import { settingsRoutes } from './settingsRoutes.ts';

const usd = z.string().regex(/^\d+(\.\d{1,9})?$/, 'must be a USD decimal string with at most 9 places');

const createAccountSchema = z.strictObject({ name: z.string().min(1).max(256).optional() });
const creditsSchema = z.strictObject({
  amount: usd,
  source: z.enum(['CREDITS', 'USD']).optional(),
  reference: z.string().min(1).max(255),
});
const allowanceSchema = z.strictObject({ amount: usd, epoch: z.int().min(0).optional() });

export function adminRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.use('*', operatorAuth(deps));

  const account = async (id: string) => {
    const found = await deps.ledger.getAccount(id);
    if (found === null) throw new NotFoundError(`no account ${id}`, { code: 'account_not_found' });
    return found;
  };

  app.get('/prices', (c) => c.json({ versions: deps.prices.current().versions.map(priceSheetToJson) }));

  app.route('/', priceRoutes(deps));

  // The whole fleet's spend: the daily usage the operator sets against total staked DIEM (the daily liability).
  app.get('/usage-analytics', async (c) => c.json(await usageAnalyticsView(deps, null, c.req.query())));

  app.route('/', settingsRoutes(deps));

  app.get('/measurements', (c) => c.json({ data: deps.measurements.views().map(measurementJson) }));

  app.post('/accounts', async (c) => {
    const body = parseWith(createAccountSchema, await readJsonBody(c));
    const created = await deps.ledger.createAccount({ name: body.name ?? null });
    const key = await deps.ledger.createKey({ accountId: created.id, kind: 'ADMIN', name: 'operator-issued' });
    return c.json({ data: { account: created, apiKey: key.secret, key: keyView(key.key) } }, 201);
  });

  app.get('/accounts/:id', async (c) => {
    const found = await account(c.req.param('id'));
    const balance = await deps.ledger.balance(found.id);
    return c.json({
      data: {
        account: found,
        balance: JSON.parse(JSON.stringify(balance, (_, v) => (typeof v === 'bigint' ? v.toString() : v))),
      },
    });
  });

  app.post('/accounts/:id/credits', async (c) => {
    const found = await account(c.req.param('id'));
    const body = parseWith(creditsSchema, await readJsonBody(c));
    const applied = await deps.ledger.addFunds({
      accountId: found.id,
      source: body.source ?? 'CREDITS',
      amountNano: parseUsd(body.amount),
      reference: body.reference,
    });
    return c.json({ data: { applied } }, applied ? 201 : 200);
  });

  app.put('/accounts/:id/diem-allowance', async (c) => {
    const found = await account(c.req.param('id'));
    const body = parseWith(allowanceSchema, await readJsonBody(c));
    const epoch = body.epoch ?? epochAt(deps.clock(), deps.epochSeconds);
    await deps.ledger.setDiemAllowance(found.id, epoch, parseUsd(body.amount));
    return c.json({ data: { accountId: found.id, epoch, amount: body.amount } });
  });
  return app;
}
