/**
 * Rate limiting behind an interface: the in-memory token buckets for one embedded gateway, and (later) Redis for
 * replicas sharing limits. A bucket is named by its owner and dimension, e.g. "key:<id>:rpm".
 */

export interface BucketSpec {
  /** The bucket's size; it refills from empty to full over one minute. */
  perMinute: number;
}

export interface BucketTake {
  bucket: string;
  spec: BucketSpec;
  /** Units asked for now. A take larger than the bucket needs a full bucket. */
  amount: number;
}

export interface BucketState {
  bucket: string;
  limit: number;
  /** Whole units left after this decision (0 when refused). */
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
  /** Until this take would succeed; 0 when it did. */
  retryAfterMs: number;
}

export interface RateDecision {
  allowed: boolean;
  states: BucketState[];
}

export interface RateLimiter {
  /** Takes from every bucket, or from none when any one is short. */
  take(takes: readonly BucketTake[], nowMs: number): Promise<RateDecision>;
  /** Settles a take after the fact (tokens generated beyond the estimate, or refunded). A bucket may go negative. */
  adjust(bucket: string, spec: BucketSpec, delta: number, nowMs: number): Promise<void>;
  peek(bucket: string, spec: BucketSpec, nowMs: number): Promise<BucketState>;
}
