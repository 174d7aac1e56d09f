/** How a key's fields sit in SQLite columns: allowed models as JSON text, rate-limit overrides as two columns. */
export function modelsToText(models: string[] | null): string | null {
  return models === null ? null : JSON.stringify(models);
}

export function modelsFromText(text: unknown): string[] | null {
  return text === null ? null : (JSON.parse(text as string) as string[]);
}

export function rateLimitColumns(
  rateLimits: { requestsPerMinute: number | null; tokensPerMinute: number | null } | null,
): [number | null, number | null] {
  return [rateLimits?.requestsPerMinute ?? null, rateLimits?.tokensPerMinute ?? null];
}
