/**
 * rateLimit: RPM and TPM token buckets per key and per account. A request takes one request and its token estimate
 * (prompt bound + max_tokens) on admission; the handler corrects the TPM buckets with the real count after.
 * Answers carry OpenAI's x-ratelimit-* headers for the tighter of the key and account buckets, at the limits in force
 * (the key's own overrides, else the operator's defaults).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { RateLimitError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv, Principal } from '../env.ts';
import type { RateLimitConfig } from '../limits.ts';
import { limitsInForce } from '../rateLimit/limitsInForce.ts';
import type { BucketState, BucketTake } from '../rateLimit/types.ts';

/** OpenAI's duration format: "120ms", "1.5s", "6m0s". */
export function formatResetMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 100) / 10;
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
}

/** What one principal's requests take, built for one rate-limit config: its four takes with their specs. */
interface BucketPlan {
  config: RateLimitConfig;
  accountId: string;
  takes: readonly [BucketTake, BucketTake, BucketTake, BucketTake];
}

/**
 * What one request takes: a request and `tokens` from the key's and the account's buckets, at the limits in force
 * (the key's overrides, else the operator's defaults). A plan is built once per API key object (the key cache hands
 * out the same object while it holds the key) and per rate-limit config object (a new one when the operator changes
 * the limits), so the hot path allocates only the four takes it hands on.
 */
function bucketPlanner(deps: GatewayDeps) {
  const plans = new WeakMap<Principal['key'], BucketPlan>();
  const planOf = (principal: Principal): BucketPlan => {
    const config = deps.rateLimits;
    let plan = plans.get(principal.key);
    if (plan === undefined || plan.config !== config || plan.accountId !== principal.accountId) {
      const { id } = principal.key;
      const { accountId } = principal;
      const limits = limitsInForce(config, principal.key);
      plan = {
        config,
        accountId,
        takes: [
          { bucket: `key:${id}:rpm`, spec: { perMinute: limits.keyRpm }, amount: 1 },
          { bucket: `account:${accountId}:rpm`, spec: { perMinute: limits.accountRpm }, amount: 1 },
          { bucket: `key:${id}:tpm`, spec: { perMinute: limits.keyTpm }, amount: 0 },
          { bucket: `account:${accountId}:tpm`, spec: { perMinute: limits.accountTpm }, amount: 0 },
        ],
      };
      plans.set(principal.key, plan);
    }
    return plan;
  };
  return (principal: Principal, tokens: number): BucketTake[] => {
    const [keyRpm, accountRpm, keyTpm, accountTpm] = planOf(principal).takes;
    return [keyRpm, accountRpm, { ...keyTpm, amount: tokens }, { ...accountTpm, amount: tokens }];
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

/**
 * The level a rate limit refused at (the `x-perdiem-refused-by` header, as on a budget's 402): the key's own buckets,
 * or its account's, which for a project key is its organization's funding account.
 */
function refusingLevel(scope: string, projectId: string | null): 'key' | 'organization' | 'account' {
  if (scope === 'key') return 'key';
  return projectId === null ? 'account' : 'organization';
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
        headers: {
          'retry-after': String(Math.max(1, Math.ceil(blocking.retryAfterMs / 1000))),
          'x-perdiem-refused-by': refusingLevel(scope, c.get('principal').key.projectId),
        },
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
