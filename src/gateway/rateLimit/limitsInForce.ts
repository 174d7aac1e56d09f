/**
 * The rate limits in force for one request: the operator's per-key and per-account defaults, with the key's own
 * overrides (set through the api_keys routes or `perdiem keys`) in place of the per-key defaults.
 */
import type { ApiKey } from '../../ledger/types.ts';
import type { RateLimitConfig } from '../limits.ts';

export interface LimitsInForce {
  keyRpm: number;
  keyTpm: number;
  accountRpm: number;
  accountTpm: number;
}

export function limitsInForce(config: RateLimitConfig, key: ApiKey): LimitsInForce {
  return {
    keyRpm: key.rateLimits?.requestsPerMinute ?? config.key.requestsPerMinute,
    keyTpm: key.rateLimits?.tokensPerMinute ?? config.key.tokensPerMinute,
    accountRpm: config.account.requestsPerMinute,
    accountTpm: config.account.tokensPerMinute,
  };
}
