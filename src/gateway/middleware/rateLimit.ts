/**
 * rateLimit: RPM and TPM token buckets per key and per account. A request takes one request and its token estimate
 * (prompt bound + max_tokens) on admission; the handler corrects the TPM buckets with the real count after.
 * Answers carry OpenAI's x-ratelimit-* headers for the tighter of the key and account buckets.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { RateLimitError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv, Principal } from '../env.ts';
import type { BucketState, BucketTake } from '../rateLimit/types.ts';

/** OpenAI's duration format: "120ms", "1.5s", "6m0s". */
export function formatResetMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 100) / 10;
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
}

/** A principal's four bucket names, and the account they were made for (a key's account does not change). */
interface BucketNames {
  accountId: string;
  keyRpm: string;
  accountRpm: string;
  keyTpm: string;
  accountTpm: string;
}

/**
 * What one request takes: a request and `tokens` from the key's and the account's buckets. Names are built once per
 * API key object (the key cache hands out the same object while it holds the key), specs once per gateway.
 */
function bucketPlanner(deps: GatewayDeps) {
  // Rebuilt only when the operator's limits change (a new object from deps.settings).
  let config: GatewayDeps['rateLimits'] | null = null;
  let specs = specsOf(deps.rateLimits);
  const specsNow = () => {
    if (deps.rateLimits !== config) {
      config = deps.rateLimits;
      specs = specsOf(config);
    }
    return specs;
  };
  const namesByKey = new WeakMap<Principal['key'], BucketNames>();
  const namesOf = (principal: Principal): BucketNames => {
    let names = namesByKey.get(principal.key);
    if (names === undefined || names.accountId !== principal.accountId) {
      const { id } = principal.key;
      const { accountId } = principal;
      names = {
        accountId,
        keyRpm: `key:${id}:rpm`,
        accountRpm: `account:${accountId}:rpm`,
        keyTpm: `key:${id}:tpm`,
        accountTpm: `account:${accountId}:tpm`,
      };
      namesByKey.set(principal.key, names);
    }
    return names;
  };
  return (principal: Principal, tokens: number): BucketTake[] => {
    const names = namesOf(principal);
    const specs = specsNow();
    return [
      { bucket: names.keyRpm, spec: specs.keyRpm, amount: 1 },
      { bucket: names.accountRpm, spec: specs.accountRpm, amount: 1 },
      { bucket: names.keyTpm, spec: specs.keyTpm, amount: tokens },
      { bucket: names.accountTpm, spec: specs.accountTpm, amount: tokens },
    ];
  };
}

function specsOf({ key, account }: GatewayDeps['rateLimits']) {
  return {
    keyRpm: { perMinute: key.requestsPerMinute },
    accountRpm: { perMinute: account.requestsPerMinute },
    keyTpm: { perMinute: key.tokensPerMinute },
    accountTpm: { perMinute: account.tokensPerMinute },
  };
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
  const bucketsFor = bucketPlanner(deps);
  return async (c, next) => {
    const admission = c.get('admission');
    const tokens = admission.promptTokensMax + (admission.requestedMaxTokens ?? 0);
    const takes = bucketsFor(c.get('principal'), tokens);
    const decision = await deps.rateLimiter.take(takes, deps.clock());
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
    c.set('rateTakes', takes);
    await next();
  };
}

/** After the request: the TPM buckets learn the real token count (a refund when the estimate was higher). */
export async function correctTokens(deps: GatewayDeps, c: Context<GatewayEnv>, actualTokens: number): Promise<void> {
  const [, , keyTpm, accountTpm] = c.get('rateTakes') as [BucketTake, BucketTake, BucketTake, BucketTake];
  const delta = actualTokens - keyTpm.amount;
  if (delta === 0) return;
  const now = deps.clock();
  await deps.rateLimiter.adjust(keyTpm.bucket, keyTpm.spec, delta, now);
  await deps.rateLimiter.adjust(accountTpm.bucket, accountTpm.spec, delta, now);
}
