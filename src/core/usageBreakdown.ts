/**
 * What a charge counted, read back from its priced lines: the usage breakdown a receipt, the usage page and the
 * history show. Lines are named by SKU (`core/pricing`): `text.input`, `text.cache_read`, `text.cache_write`,
 * `text.output`, `text.reasoning` (each with an optional `.long` tier suffix), `embedding.input`, `image[.<size>]`
 * and `speech.characters`.
 */

export interface UsageBreakdown {
  /** Prompt tokens charged at the input rate (cache writes included). */
  inputTokens: number;
  /** Prompt tokens served from the cache, charged at the cache-read rate. */
  cachedInputTokens: number;
  /** Output tokens other than reasoning. */
  outputTokens: number;
  reasoningTokens: number;
  images: number;
  characters: number;
}

export function emptyBreakdown(): UsageBreakdown {
  return { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0, images: 0, characters: 0 };
}

/** Which breakdown field a SKU's units count toward. */
export function breakdownFieldOf(sku: string): keyof UsageBreakdown {
  const base = sku.endsWith('.long') ? sku.slice(0, -'.long'.length) : sku;
  switch (base) {
    case 'text.input':
    case 'text.cache_write':
    case 'embedding.input':
      return 'inputTokens';
    case 'text.cache_read':
      return 'cachedInputTokens';
    case 'text.output':
      return 'outputTokens';
    case 'text.reasoning':
      return 'reasoningTokens';
    case 'speech.characters':
      return 'characters';
  }
  if (base === 'image' || base.startsWith('image.')) return 'images';
  throw new Error(`unknown SKU ${sku}`);
}

export function usageBreakdownOf(lines: readonly { sku: string; units: number }[]): UsageBreakdown {
  const breakdown = emptyBreakdown();
  for (const line of lines) breakdown[breakdownFieldOf(line.sku)] += line.units;
  return breakdown;
}
