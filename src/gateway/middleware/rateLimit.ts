/**
 * rateLimit: RPM and TPM token buckets per key and per account. A request takes one request and its token estimate
 * (prompt bound + max_tokens) on admission; the handler corrects the TPM buckets with the real count after.
 * Answers carry OpenAI's x-ratelimit-* headers for the tighter of the key and account buckets.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { RateLimitError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import type { BucketState, BucketTake } from '../rateLimit/types.ts';

/** OpenAI's duration format: "120ms", "1.5s", "6m0s". */
export function formatResetMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 100) / 10;
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
}

export function bucketsFor(deps: GatewayDeps, keyId: string, accountId: string, tokens: number): BucketTake[] {
  const { key, account } = deps.rateLimits;
  return [
    { bucket: `key:${keyId}:rpm`, spec: { perMinute: key.requestsPerMinute }, amount: 1 },
    { bucket: `account:${accountId}:rpm`, spec: { perMinute: account.requestsPerMinute }, amount: 1 },
    { bucket: `key:${keyId}:tpm`, spec: { perMinute: key.tokensPerMinute }, amount: tokens },
    { bucket: `account:${accountId}:tpm`, spec: { perMinute: account.tokensPerMinute }, amount: tokens },
  ];
}

function tighter(a: BucketState, b: BucketState): BucketState {
  return a.remaining / a.limit <= b.remaining / b.limit ? a : b;
}

function setHeaders(headers: Record<string, string>, requests: BucketState, tokens: BucketState): void {
  headers['x-ratelimit-limit-requests'] = String(requests.limit);
  headers['x-ratelimit-remaining-requests'] = String(requests.remaining);
  headers['x-ratelimit-reset-requests'] = formatResetMs(requests.resetMs);
  headers['x-ratelimit-limit-tokens'] = String(tokens.limit);
  headers['x-ratelimit-remaining-tokens'] = String(tokens.remaining);
  headers['x-ratelimit-reset-tokens'] = formatResetMs(tokens.resetMs);
}

export function rateLimitMiddleware(deps: GatewayDeps): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const { key, accountId } = c.get('principal');
    const admission = c.get('admission');
    const tokens = admission.promptTokensMax + (admission.requestedMaxTokens ?? 0);
    const decision = await deps.rateLimiter.take(bucketsFor(deps, key.id, accountId, tokens), deps.clock());
    const [keyRpm, accountRpm, keyTpm, accountTpm] = decision.states as [
      BucketState,
      BucketState,
      BucketState,
      BucketState,
    ];
    setHeaders(c.get('headers'), tighter(keyRpm, accountRpm), tighter(keyTpm, accountTpm));
    if (!decision.allowed) {
      const blocking = decision.states.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));
      const scope = blocking.bucket.split(':')[0]!;
      const unit = blocking.bucket.endsWith('rpm') ? 'requests' : 'tokens';
      deps.metrics.observeRateLimited(scope);
      throw new RateLimitError(`rate limit reached for ${unit} per minute on this ${scope}; retry later`, {
        code: 'rate_limit_exceeded',
        headers: { 'retry-after': String(Math.max(1, Math.ceil(blocking.retryAfterMs / 1000))) },
      });
    }
    c.set('tokensTaken', tokens);
    await next();
  };
}

/** After the request: the TPM buckets learn the real token count (a refund when the estimate was higher). */
export async function correctTokens(deps: GatewayDeps, c: Context<GatewayEnv>, actualTokens: number): Promise<void> {
  const { key, accountId } = c.get('principal');
  const delta = actualTokens - c.get('tokensTaken');
  if (delta === 0) return;
  const [, , keyTpm, accountTpm] = bucketsFor(deps, key.id, accountId, 0);
  const now = deps.clock();
  await deps.rateLimiter.adjust(keyTpm!.bucket, keyTpm!.spec, delta, now);
  await deps.rateLimiter.adjust(accountTpm!.bucket, accountTpm!.spec, delta, now);
}
