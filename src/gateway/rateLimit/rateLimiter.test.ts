/**
 * One behaviour suite for every RateLimiter (memory, Redis), then a differential run: random call sequences give
 * the same answers from both.
 */
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from './memoryRateLimiter.ts';
import { createRedisRateLimiter } from './redisRateLimiter.ts';
import { deleteKeys, openTestRedis, redisSkipReason, testKeyPrefix, testRedisUrl } from './redisTestHarness.ts';
import type { BucketSpec, BucketTake, RateLimiter } from './types.ts';

interface LimiterHarness {
  name: string;
  skipReason: string | null;
  open(): RateLimiter;
  cleanup(): Promise<void>;
}

const redisSkip = await redisSkipReason();

function redisHarness(): LimiterHarness {
  const opened: { close(): Promise<void> }[] = [];
  return {
    name: 'redis',
    skipReason: redisSkip,
    open() {
      const limiter = createRedisRateLimiter({ url: testRedisUrl, keyPrefix: testKeyPrefix('rateLimiter') });
      opened.push(limiter);
      return limiter;
    },
    async cleanup() {
      await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
    },
  };
}

/** One connection for many limiters, each under a prefix of its own. */
function createRedisRateLimiterForRuns() {
  const client = openTestRedis();
  return {
    open: () => createRedisRateLimiter({ redis: client, keyPrefix: testKeyPrefix('rateLimiter') }),
    close: () => client.quit(),
  };
}

const harnesses: LimiterHarness[] = [
  { name: 'memory', skipReason: null, open: () => createMemoryRateLimiter(), cleanup: async () => {} },
  redisHarness(),
];

afterAll(async () => {
  if (redisSkip !== null) return;
  const redis = openTestRedis();
  await deleteKeys(redis, 'perdiem_test:rateLimiter:');
  await redis.quit();
});

const t0 = 1_700_000_000_000;
const take = (bucket: string, perMinute: number, amount: number): BucketTake => ({
  bucket,
  spec: { perMinute },
  amount,
});

for (const harness of harnesses) {
  describe.skipIf(harness.skipReason !== null)(`rate limiter behaviour: ${harness.name}`, () => {
    afterEach(() => harness.cleanup());

    it('starts a bucket full and takes from it', async () => {
      const limiter = harness.open();
      const decision = await limiter.take([take('key:a:rpm', 60, 1)], t0);
      expect(decision).toEqual({
        allowed: true,
        states: [{ bucket: 'key:a:rpm', limit: 60, remaining: 59, resetMs: 1_000, retryAfterMs: 0 }],
      });
    });

    it('refills by elapsed time, never past the limit', async () => {
      const limiter = harness.open();
      const spec = { perMinute: 60 };
      expect((await limiter.take([take('b', 60, 60)], t0)).states[0]!.remaining).toBe(0);
      expect(await limiter.peek('b', spec, t0 + 10_500)).toEqual({
        bucket: 'b',
        limit: 60,
        remaining: 10,
        resetMs: 49_500,
        retryAfterMs: 0,
      });
      expect(await limiter.peek('b', spec, t0 + 600_000)).toMatchObject({ remaining: 60, resetMs: 0 });
    });

    it('refuses a take that the bucket cannot cover, takes nothing, and says when to retry', async () => {
      const limiter = harness.open();
      await limiter.take([take('b', 10, 8)], t0);
      const refused = await limiter.take([take('b', 10, 5)], t0);
      // 2 left, 3 missing at 6 s a token.
      expect(refused).toEqual({
        allowed: false,
        states: [{ bucket: 'b', limit: 10, remaining: 2, resetMs: 48_000, retryAfterMs: 18_000 }],
      });
      expect((await limiter.take([take('b', 10, 5)], t0 + 17_999)).allowed).toBe(false);
      expect((await limiter.take([take('b', 10, 5)], t0 + 18_000)).allowed).toBe(true);
    });

    it('admits a take larger than the bucket only when it is full, then owes the rest', async () => {
      const limiter = harness.open();
      await limiter.take([take('b', 10, 1)], t0);
      expect((await limiter.take([take('b', 10, 15)], t0)).allowed).toBe(false);
      const full = await limiter.take([take('b', 10, 15)], t0 + 6_000);
      expect(full.allowed).toBe(true);
      expect(full.states[0]).toMatchObject({ remaining: 0, resetMs: 90_000 });
      // 5 owed plus 1 wanted, at 6 s a token.
      expect((await limiter.take([take('b', 10, 1)], t0 + 6_000)).states[0]).toMatchObject({
        remaining: 0,
        retryAfterMs: 36_000,
      });
    });

    it('takes from every bucket or from none', async () => {
      const limiter = harness.open();
      await limiter.take([take('account:1:tpm', 100, 95)], t0);
      const decision = await limiter.take([take('key:1:tpm', 100, 10), take('account:1:tpm', 100, 10)], t0);
      expect(decision.allowed).toBe(false);
      expect(decision.states.map((s) => [s.remaining, s.retryAfterMs])).toEqual([
        [100, 0],
        [5, 3_000],
      ]);
      expect((await limiter.peek('key:1:tpm', { perMinute: 100 }, t0)).remaining).toBe(100);
    });

    it('adjusts a bucket after the fact: charges, refunds, and may go negative', async () => {
      const limiter = harness.open();
      const spec: BucketSpec = { perMinute: 100 };
      await limiter.take([take('tpm', 100, 10)], t0);
      await limiter.adjust('tpm', spec, 5, t0);
      expect((await limiter.peek('tpm', spec, t0)).remaining).toBe(85);
      await limiter.adjust('tpm', spec, -12, t0);
      expect((await limiter.peek('tpm', spec, t0)).remaining).toBe(97);
      await limiter.adjust('tpm', spec, 200, t0);
      // -103 tokens at 600 ms a token.
      expect(await limiter.peek('tpm', spec, t0)).toEqual({
        bucket: 'tpm',
        limit: 100,
        remaining: 0,
        resetMs: 121_800,
        retryAfterMs: 61_800,
      });
      expect((await limiter.take([take('tpm', 100, 1)], t0 + 61_799)).allowed).toBe(false);
      expect((await limiter.take([take('tpm', 100, 1)], t0 + 62_400)).allowed).toBe(true);
    });

    it('a refund never fills a bucket past its limit on the next refill', async () => {
      const limiter = harness.open();
      const spec: BucketSpec = { perMinute: 100 };
      await limiter.adjust('tpm', spec, -50, t0);
      expect(await limiter.peek('tpm', spec, t0 + 1)).toMatchObject({ remaining: 100, resetMs: 0 });
    });

    it('peeks without taking', async () => {
      const limiter = harness.open();
      const spec: BucketSpec = { perMinute: 30 };
      await limiter.take([take('p', 30, 3)], t0);
      const first = await limiter.peek('p', spec, t0);
      expect(await limiter.peek('p', spec, t0)).toEqual(first);
      expect(first).toEqual({ bucket: 'p', limit: 30, remaining: 27, resetMs: 6_000, retryAfterMs: 0 });
    });

    it('keeps buckets of different keys and dimensions apart', async () => {
      const limiter = harness.open();
      await limiter.take([take('key:a:rpm', 5, 5)], t0);
      expect((await limiter.take([take('key:a:rpm', 5, 1)], t0)).allowed).toBe(false);
      expect((await limiter.take([take('key:b:rpm', 5, 1)], t0)).allowed).toBe(true);
      expect((await limiter.take([take('key:a:tpm', 5, 1)], t0)).allowed).toBe(true);
    });

    it('counts a bucket named twice in one take as one bucket', async () => {
      const limiter = harness.open();
      const decision = await limiter.take([take('d', 10, 4), take('d', 10, 4)], t0);
      expect(decision.allowed).toBe(true);
      expect(decision.states.map((s) => s.remaining)).toEqual([2, 2]);
    });
  });
}

/**
 * Limits from {1875, 3750, ..., 60000} per minute refill k/32 tokens a ms, so the memory limiter's floating point is
 * exact too and any integer times may be used; the two limiters must then agree on every answer.
 */
describe.skipIf(redisSkip !== null)('rate limiter: memory and Redis agree on random call sequences', () => {
  const redis = createRedisRateLimiterForRuns();
  afterAll(() => redis.close());

  const buckets = ['key:k:rpm', 'key:k:tpm', 'account:a:tpm'] as const;
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('take' as const),
      elapsedMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90_000 })),
      takes: fc.array(fc.record({ bucket: fc.constantFrom(...buckets), amount: fc.nat(80_000) }), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
    fc.record({
      kind: fc.constant('adjust' as const),
      elapsedMs: fc.integer({ min: 0, max: 5_000 }),
      bucket: fc.constantFrom(...buckets),
      delta: fc.integer({ min: -70_000, max: 70_000 }),
    }),
    fc.record({
      kind: fc.constant('peek' as const),
      elapsedMs: fc.integer({ min: 0, max: 30_000 }),
      bucket: fc.constantFrom(...buckets),
    }),
  );
  const perMinute = fc.constantFrom(1_875, 3_750, 7_500, 15_000, 30_000, 60_000);

  it('gives identical decisions and states', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(perMinute, perMinute, perMinute), fc.array(op, { maxLength: 30 }), async (p, ops) => {
        const specs = Object.fromEntries(buckets.map((b, i) => [b, { perMinute: p[i]! }]));
        // A fresh prefix per run: a fresh set of Redis buckets on one shared connection.
        const limiters = [createMemoryRateLimiter(), redis.open()];
        let nowMs = t0;
        for (const o of ops) {
          nowMs += o.elapsedMs;
          const answers = await Promise.all(
            limiters.map((limiter) => {
              if (o.kind === 'take') {
                return limiter.take(
                  o.takes.map((t) => ({ bucket: t.bucket, spec: specs[t.bucket]!, amount: t.amount })),
                  nowMs,
                );
              }
              if (o.kind === 'adjust') return limiter.adjust(o.bucket, specs[o.bucket]!, o.delta, nowMs);
              return limiter.peek(o.bucket, specs[o.bucket]!, nowMs);
            }),
          );
          expect(answers[1]).toEqual(answers[0]);
        }
      }),
      { numRuns: 150, seed: 20_260_101 },
    );
  });
});
