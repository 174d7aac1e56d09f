/** Usage from an upstream's `usage` object, or null when it is missing or malformed. */
import type { Usage } from '../types.ts';

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

export function extractUsage(body: unknown): Usage | null {
  if (typeof body !== 'object' || body === null) return null;
  const usage = (body as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return null;
  const promptTokens = count((usage as { prompt_tokens?: unknown }).prompt_tokens);
  const completionTokens = count((usage as { completion_tokens?: unknown }).completion_tokens) ?? 0;
  if (promptTokens === null) return null;
  return { promptTokens, completionTokens, estimated: false };
}
