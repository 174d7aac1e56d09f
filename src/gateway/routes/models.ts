/**
 * GET models: every served model, with `model_spec.pricing` in Venice's shape ({usd, diem} per unit). When a later
 * sheet is announced, `pricing.next` is the model's price in it (same shape) with its `effective_from`, and the
 * override's reason as `notice` when it moved past the step bound. `model_spec.compute_units` is the model's CU
 * estimate, so models compare on one scale.
 */
import { Hono } from 'hono';
import type { ModelPrice, PriceBook } from '../../core/pricing.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { pricingOf } from '../kinds/priceUnits.ts';
import { computeUnitsSpec } from '../pricing/computeJson.ts';
import { overrideOf } from '../pricing/scheduleSheet.ts';

/** Each price unit renders its own pricing (kinds/priceUnits.ts); the operator's model list shows the same. */
export { pricingOf };

/** The first version after `nowMs` that prices `model`, and when it takes effect. */
function nextPriceOf(book: PriceBook, model: string, nowMs: number): { price: ModelPrice; atMs: number } | null {
  for (const sheet of book.versions) {
    const price = sheet.models[model];
    if (sheet.effectiveFromMs > nowMs && price) return { price, atMs: sheet.effectiveFromMs };
  }
  return null;
}

/** `model_spec.pricing`, with `next` when a later sheet prices the model. */
export function pricingWithNext(deps: GatewayDeps, model: string, nowMs: number): Record<string, unknown> | null {
  const pricing = pricingOf(deps.prices.priceAt(model, nowMs));
  const next = nextPriceOf(deps.prices.current(), model, nowMs);
  if (pricing === null || next === null) return pricing;
  const notice = overrideOf(deps.prices.noteOf(next.atMs))?.reason;
  return {
    ...pricing,
    next: {
      ...pricingOf(next.price),
      effective_from: new Date(next.atMs).toISOString(),
      ...(notice === undefined ? {} : { notice }),
    },
  };
}

export function modelRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get('/models', (c) => {
    const now = deps.clock();
    const data = deps.registry.listModels().map((model) => {
      const price = deps.prices.priceAt(model.id, now);
      return {
        id: model.id,
        object: 'model' as const,
        created: 0,
        owned_by: model.ownedBy,
        type: price?.kind ?? (model.capabilities.includes('chat') ? 'text' : 'embedding'),
        model_spec: {
          availableContextTokens: model.contextLength,
          capabilities: model.capabilities,
          pricing: pricingWithNext(deps, model.id, now),
          compute_units: computeUnitsSpec(deps.compute.cuOf(model.id)),
        },
      };
    });
    return c.json({ object: 'list', data });
  });
  return app;
}
