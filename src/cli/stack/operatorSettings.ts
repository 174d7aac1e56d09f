/**
 * The operator settings of `perdiem up`: default prices for the served models and rate limits from the config, under
 * what the operator changed since (kept, versioned, in the ledger's database).
 */
import path from 'node:path';
import type { Clock } from '../../core/epoch.ts';
import type { ModelPrice, PriceBook } from '../../core/pricing.ts';
import { type RateLimitConfig, rateLimitsDefault } from '../../gateway/limits.ts';
import { type OperatorSettings, openOperatorSettingsFor } from '../../gateway/settings/operatorSettings.ts';
import type { StackConfig } from '../stackConfig.ts';
import type { Closer, Progress } from './closers.ts';

/** The operator's default price for every served model: $0.20 per 1M input tokens, $0.80 per 1M output tokens. */
export const defaultModelPrice: ModelPrice = { kind: 'text', inputPer1M: 200_000_000n, outputPer1M: 800_000_000n };

/** The default for image models: $0.04 an image, whatever its size (the operator reprices through POST /admin/prices). */
export const defaultImagePrice: ModelPrice = { kind: 'image', perImage: 40_000_000n };

/** The default for speech models: $15 per 1M characters of input (OpenAI's tts-1 list price), until repriced. */
export const defaultSpeechPrice: ModelPrice = { kind: 'speech', per1MCharacters: 15_000_000_000n };

export function priceBookFor(models: string[], imageModels: string[] = [], speechModels: string[] = []): PriceBook {
  const prices = [
    ...models.map((id) => [id, defaultModelPrice] as const),
    ...imageModels.map((id) => [id, defaultImagePrice] as const),
    ...speechModels.map((id) => [id, defaultSpeechPrice] as const),
  ];
  return { versions: [{ effectiveFromMs: 0, models: Object.fromEntries(prices) }] };
}

/** Whether the config gives any rate limit (flag, variable or file). */
export function rateLimitsGiven(config: StackConfig): boolean {
  return [config.rateLimitKeyRpm, config.rateLimitKeyTpm, config.rateLimitAccountRpm, config.rateLimitAccountTpm].some(
    (value) => value !== undefined,
  );
}

/** The operator's defaults from the config; each one not given keeps the gateway's own. */
export function rateLimitsOf(config: StackConfig): RateLimitConfig {
  const { key, account } = rateLimitsDefault;
  return {
    key: {
      requestsPerMinute: config.rateLimitKeyRpm ?? key.requestsPerMinute,
      tokensPerMinute: config.rateLimitKeyTpm ?? key.tokensPerMinute,
    },
    account: {
      requestsPerMinute: config.rateLimitAccountRpm ?? account.requestsPerMinute,
      tokensPerMinute: config.rateLimitAccountTpm ?? account.tokensPerMinute,
    },
  };
}

/** The stored settings over the defaults for the served models. */
export async function openStackSettings(
  config: StackConfig,
  served: { models: string[]; imageModels: string[]; speechModels: string[] },
  clock: Clock,
  progress: Progress,
  closers: Closer[],
): Promise<OperatorSettings> {
  const settings = await openOperatorSettingsFor({
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema } : {}),
    sqlitePath: path.join(config.home, 'ledger.sqlite'),
    defaults: {
      prices: priceBookFor(served.models, served.imageModels, served.speechModels),
      rateLimits: rateLimitsOf(config),
    },
    clock,
    onProblem: (message) => progress(`operator settings: ${message}`),
  });
  closers.push(() => settings.close());
  // Rate limits given explicitly at start (flag, variable or file) are the newest word: stored as a version, over any
  // set earlier through /admin/rate-limits.
  if (rateLimitsGiven(config)) {
    await settings.setRateLimits(rateLimitsOf(config), { actor: 'perdiem up', note: 'rate limits from the config' });
  }
  return settings;
}
