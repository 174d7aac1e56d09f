/** Token buckets in process memory: exact for one gateway, bounded in size (least recently used dropped first). */
import { minuteMs } from '../../core/epoch.ts';
import { gatewayLimits } from '../limits.ts';
import type { BucketSpec, BucketState, BucketTake, RateDecision, RateLimiter } from './types.ts';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createMemoryRateLimiter(bucketsMax: number = gatewayLimits.rateLimitBucketsMax): RateLimiter {
  const buckets = new Map<string, Bucket>();

  const current = (name: string, spec: BucketSpec, nowMs: number): Bucket => {
    let bucket = buckets.get(name);
    if (bucket === undefined) {
      bucket = { tokens: spec.perMinute, updatedMs: nowMs };
      if (buckets.size >= bucketsMax) buckets.delete(buckets.keys().next().value as string);
    } else {
      buckets.delete(name);
      const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
      bucket.tokens = Math.min(spec.perMinute, bucket.tokens + (elapsedMs * spec.perMinute) / minuteMs);
      bucket.updatedMs = nowMs;
    }
    buckets.set(name, bucket);
    return bucket;
  };

  /** A take larger than the bucket needs a full bucket. */
  const needOf = (take: BucketTake): number => Math.min(take.amount, take.spec.perMinute);

  const stateOf = (name: string, spec: BucketSpec, bucket: Bucket, needed: number): BucketState => {
    const msPerToken = minuteMs / spec.perMinute;
    const missing = Math.max(0, needed - bucket.tokens);
    return {
      bucket: name,
      limit: spec.perMinute,
      remaining: Math.max(0, Math.floor(bucket.tokens)),
      resetMs: Math.ceil((spec.perMinute - bucket.tokens) * msPerToken),
      retryAfterMs: Math.ceil(missing * msPerToken),
    };
  };

  return {
    async take(takes: readonly BucketTake[], nowMs: number): Promise<RateDecision> {
      // Plain loops: this runs on every request, and the array helpers allocated a closure and an array each.
      const found: Bucket[] = new Array(takes.length);
      let allowed = true;
      for (let i = 0; i < takes.length; i++) {
        const take = takes[i]!;
        const bucket = current(take.bucket, take.spec, nowMs);
        found[i] = bucket;
        if (bucket.tokens < needOf(take)) allowed = false;
      }
      if (allowed) for (let i = 0; i < takes.length; i++) found[i]!.tokens -= takes[i]!.amount;
      // After every take: a bucket named twice reports both.
      const states: BucketState[] = new Array(takes.length);
      for (let i = 0; i < takes.length; i++) {
        const take = takes[i]!;
        states[i] = stateOf(take.bucket, take.spec, found[i]!, allowed ? 0 : needOf(take));
      }
      return { allowed, states };
    },
    async adjust(name, spec, delta, nowMs) {
      current(name, spec, nowMs).tokens -= delta;
    },
    async peek(name, spec, nowMs) {
      return stateOf(name, spec, current(name, spec, nowMs), 0);
    },
  };
}
