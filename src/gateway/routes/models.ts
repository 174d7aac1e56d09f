/** GET models: every served model, with `model_spec.pricing` in Venice's shape ({usd, diem} per unit). */
import { Hono } from 'hono';
import { nanoUsdToNumber } from '../../core/money.ts';
import type { ModelPrice } from '../../core/pricing.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';

const both = (nano: bigint) => ({ usd: nanoUsdToNumber(nano), diem: nanoUsdToNumber(nano) });

/** Per 1M tokens for text and embeddings, per image for images; null when the model has no price. */
export function pricingOf(price: ModelPrice | null): Record<string, unknown> | null {
  if (price === null) return null;
  switch (price.kind) {
    case 'text':
      return {
        input: both(price.inputPer1M),
        output: both(price.outputPer1M),
        ...(price.cacheReadPer1M === undefined ? {} : { cache_input: both(price.cacheReadPer1M) }),
        ...(price.longContext
          ? {
              long_context: {
                threshold_tokens: price.longContext.thresholdTokens,
                input: both(price.longContext.inputPer1M),
                output: both(price.longContext.outputPer1M),
              },
            }
          : {}),
        unit: 'per_1m_tokens',
      };
    case 'embedding':
      return { input: both(price.inputPer1M), unit: 'per_1m_tokens' };
    case 'image':
      return {
        ...(price.perImage === undefined ? {} : { generation: both(price.perImage) }),
        by_resolution: Object.fromEntries(Object.entries(price.byResolution ?? {}).map(([k, v]) => [k, both(v)])),
        unit: 'per_image',
      };
    case 'speech':
      return { input: both(price.per1MCharacters), unit: 'per_1m_characters' };
  }
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
          pricing: pricingOf(price),
        },
      };
    });
    return c.json({ object: 'list', data });
  });
  return app;
}
