/** GET models: every served model, with `model_spec.pricing` in Venice's shape ({usd, diem} per unit). */
import { Hono } from 'hono';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { pricingOf } from '../kinds/priceUnits.ts';

/** Each price unit renders its own pricing (kinds/priceUnits.ts); the operator's model list shows the same. */
export { pricingOf };

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
          pricing: pricingOf(price),
        },
      };
    });
    return c.json({ object: 'list', data });
  });
  return app;
}
