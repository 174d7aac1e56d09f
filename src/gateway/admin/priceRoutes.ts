/**
 * The operator's price changes (/admin/prices/*, operator token): explicit sheets (POST /admin/prices), the
 * calibration proposal, announcing it, and one model's price history. Every sheet goes through `scheduleSheet`: a
 * change to a priced model only at a future epoch boundary, each rate within the step bound unless overridden with
 * a reason.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { epochAt } from '../../core/epoch.ts';
import { priceSheetHash } from '../../core/priceSheetHash.ts';
import type { PriceSheet } from '../../core/pricing.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { announceProposal, proposalAt, proposalView } from '../pricing/priceProposal.ts';
import { defaultEffectiveFromMs, overrideOf, type PricingDeps, scheduleSheet } from '../pricing/scheduleSheet.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { modelPriceToJson, priceSheetFromJson, priceSheetJsonSchema, priceSheetToJson } from './priceSheetJson.ts';
import { adminActor } from './settingsRoutes.ts';

const reasonLengthMax = 1_000;
const modelIdLengthMax = 256;

export const priceOverrideSchema = z.strictObject({ reason: z.string().trim().min(1).max(reasonLengthMax) });

/** A sheet as POST /admin/prices takes it: effectiveFrom may be left out (see `defaultEffectiveFromMs`). */
export const postedSheetSchema = priceSheetJsonSchema.extend({
  effectiveFrom: priceSheetJsonSchema.shape.effectiveFrom.optional(),
  override: priceOverrideSchema.optional(),
});

export const announceSchema = z.strictObject({
  models: z.array(z.string().min(1).max(modelIdLengthMax)).min(1).optional(),
  effectiveFrom: z.iso.datetime({ offset: true }).optional(),
  override: priceOverrideSchema.optional(),
});

const historyQuerySchema = z.strictObject({ model: z.string().min(1).max(modelIdLengthMax) });

/** What an added sheet's answer holds: when, which epoch, its hash, the sheet, and an override's reason. */
function announcedView(deps: PricingDeps, sheet: PriceSheet) {
  return {
    effectiveFrom: new Date(sheet.effectiveFromMs).toISOString(),
    epoch: epochAt(sheet.effectiveFromMs, deps.epochSeconds),
    hash: priceSheetHash(sheet),
    sheet: priceSheetToJson(sheet),
    override: overrideOf(deps.prices.noteOf(sheet.effectiveFromMs)),
  };
}

/** Every version that prices `model`, oldest first. */
export function priceHistoryOf(deps: PricingDeps, model: string) {
  const points = deps.prices
    .current()
    .versions.filter((sheet) => sheet.models[model] !== undefined)
    .map((sheet) => ({
      effectiveFrom: new Date(sheet.effectiveFromMs).toISOString(),
      epoch: epochAt(sheet.effectiveFromMs, deps.epochSeconds),
      hash: priceSheetHash(sheet),
      price: modelPriceToJson(sheet.models[model]!),
      override: overrideOf(deps.prices.noteOf(sheet.effectiveFromMs)),
    }));
  return { model, points };
}

/** Mounted under /admin, behind the operator token. */
export function priceRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  app.post('/prices', async (c) => {
    const body = parseWith(postedSheetSchema, await readJsonBody(c));
    const { models } = priceSheetFromJson({ effectiveFrom: new Date(0).toISOString(), models: body.models });
    const effectiveFromMs =
      body.effectiveFrom === undefined ? defaultEffectiveFromMs(deps, models) : Date.parse(body.effectiveFrom);
    const sheet = await scheduleSheet(
      deps,
      { effectiveFromMs, models },
      { actor: adminActor, override: body.override ?? null },
    );
    const { epoch, hash, override } = announcedView(deps, sheet);
    return c.json({ data: { ...(priceSheetToJson(sheet) as object), epoch, hash, override } }, 201);
  });

  app.get('/prices/proposal', (c) => c.json({ data: proposalView(deps, proposalAt(deps)) }));

  app.post('/prices/announce', async (c) => {
    const body = parseWith(announceSchema, await readJsonBody(c));
    const sheet = await announceProposal(deps, {
      ...(body.models ? { models: body.models } : {}),
      ...(body.effectiveFrom ? { effectiveFromMs: Date.parse(body.effectiveFrom) } : {}),
      override: body.override ?? null,
      actor: adminActor,
    });
    return c.json({ data: announcedView(deps, sheet) }, 201);
  });

  app.get('/prices/history', (c) => {
    const { model } = parseWith(historyQuerySchema, c.req.query());
    return c.json({ data: priceHistoryOf(deps, model) });
  });
  return app;
}
