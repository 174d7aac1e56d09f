/** What only the Redis limiter has to show: shared buckets across replicas, expiry, prefixes, scripts, outages. */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/errors.ts';
import { createRedisRateLimiter, type RedisRateLimiter, unitsPerToken } from './redisRateLimiter.ts';
import { deleteKeys, openTestRedis, redisSkipReason, testKeyPrefix, testRedisUrl } from './redisTestHarness.ts';
import type { BucketSpec } from './types.ts';

const redisSkip = await redisSkipReason();
const t0 = 1_700_000_000_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(redisSkip !== null)('redis rate limiter', () => {
  const redis = redisSkip === null ? openTestRedis() : null;
  const opened: RedisRateLimiter[] = [];
  const prefixes: string[] = [];

  const open = (options: { keyPrefix?: string; idleTtlSlackMs?: number } = {}) => {
    const keyPrefix = options.keyPrefix ?? testKeyPrefix('redisRateLimiter');
    prefixes.push(keyPrefix);
    const limiter = createRedisRateLimiter({ url: testRedisUrl, ...options, keyPrefix });
    opened.push(limiter);
    return limiter;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
    for (const prefix of prefixes.splice(0)) await deleteKeys(redis!, prefix);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('two replicas sharing a bucket admit exactly its size under 200 concurrent takes', async () => {
    const keyPrefix = testKeyPrefix('redisRateLimiter');
    const replicas = [open({ keyPrefix }), open({ keyPrefix })];
    const spec: BucketSpec = { perMinute: 50 };
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => replicas[i % 2]!.take([{ bucket: 'key:k:rpm', spec, amount: 1 }], t0)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    const remaining = decisions.filter((d) => d.allowed).map((d) => d.states[0]!.remaining);
    expect(new Set(remaining).size).toBe(50);
    expect((await replicas[1]!.peek('key:k:rpm', spec, t0)).remaining).toBe(0);
  });

  it('two replicas never over-admit on the account bucket their keys share, while time moves', async () => {
    const keyPrefix = testKeyPrefix('redisRateLimiter');
    const replicas = [open({ keyPrefix }), open({ keyPrefix })];
    const account: BucketSpec = { perMinute: 60 };
    const key: BucketSpec = { perMinute: 1_000 };
    // 400 takes spread over 10 s: the account bucket allows 60 + 10 refilled.
    const decisions = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        replicas[i % 2]!.take(
          [
            { bucket: `key:${i % 7}:rpm`, spec: key, amount: 1 },
            { bucket: 'account:a:rpm', spec: account, amount: 1 },
          ],
          t0 + Math.floor(i / 40) * 1_000,
        ),
      ),
    );
    expect(decisions.filter((d) => d.allowed).length).toBeLessThanOrEqual(70);
    expect(decisions.filter((d) => d.allowed).length).toBeGreaterThanOrEqual(60);
  });

  it('applies concurrent adjustments from two replicas exactly once each', async () => {
    const keyPrefix = testKeyPrefix('redisRateLimiter');
    const replicas = [open({ keyPrefix }), open({ keyPrefix })];
    const spec: BucketSpec = { perMinute: 1_000 };
    await Promise.all(Array.from({ length: 100 }, (_, i) => replicas[i % 2]!.adjust('tpm', spec, 7, t0)));
    expect((await replicas[0]!.peek('tpm', spec, t0)).remaining).toBe(300);
  });

  it('stores integer units and expires a bucket once it would be full again (plus slack)', async () => {
    const limiter = open({ idleTtlSlackMs: 100 });
    const prefix = prefixes.at(-1)!;
    const spec: BucketSpec = { perMinute: 60_000 }; // a token a millisecond
    await limiter.take([{ bucket: 'b', spec, amount: 30 }], t0);
    expect(await redis!.get(`${prefix}b`)).toBe(`${(60_000 - 30) * unitsPerToken}:${t0}`);
    const ttlMs = await redis!.pttl(`${prefix}b`);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(130);
    await sleep(300);
    expect(await redis!.exists(`${prefix}b`)).toBe(0);
    // An expired bucket reads as the full bucket it had become.
    expect((await limiter.peek('b', spec, t0 + 10)).remaining).toBe(60_000);
  });

  it('keeps an owing bucket at least until it has paid back', async () => {
    const limiter = open({ idleTtlSlackMs: 1_000 });
    const prefix = prefixes.at(-1)!;
    const spec: BucketSpec = { perMinute: 60 };
    await limiter.adjust('b', spec, 120, t0); // -60 tokens: 120 s to full
    const ttlMs = await redis!.pttl(`${prefix}b`);
    expect(ttlMs).toBeGreaterThan(120_000);
    expect(ttlMs).toBeLessThanOrEqual(121_000);
  });

  it('keeps deployments with different prefixes apart', async () => {
    const a = open();
    const b = open();
    const spec: BucketSpec = { perMinute: 3 };
    await a.take([{ bucket: 'key:k:rpm', spec, amount: 3 }], t0);
    expect((await a.take([{ bucket: 'key:k:rpm', spec, amount: 1 }], t0)).allowed).toBe(false);
    expect((await b.take([{ bucket: 'key:k:rpm', spec, amount: 1 }], t0)).allowed).toBe(true);
  });

  it('does not refill one interval twice when replica clocks disagree', async () => {
    const keyPrefix = testKeyPrefix('redisRateLimiter');
    const [ahead, behind] = [open({ keyPrefix }), open({ keyPrefix })];
    const spec: BucketSpec = { perMinute: 60 };
    await ahead.take([{ bucket: 'b', spec, amount: 60 }], t0 + 5_000);
    expect((await behind.take([{ bucket: 'b', spec, amount: 1 }], t0)).allowed).toBe(false);
    // Had the bucket's clock gone back to t0, `ahead` would see 5 tokens here.
    expect((await ahead.peek('b', spec, t0 + 5_000)).remaining).toBe(0);
    expect((await ahead.peek('b', spec, t0 + 6_000)).remaining).toBe(1);
  });

  it('falls back to EVAL on NOSCRIPT: one extra round trip, then EVALSHA again', async () => {
    // Redis's script cache is shared with whoever else uses it, so rather than SCRIPT FLUSH, the client forgets
    // each script once.
    const real = openTestRedis();
    const keyPrefix = testKeyPrefix('redisRateLimiter');
    prefixes.push(keyPrefix);
    const forgotten = new Set<string>();
    const forgetful = {
      evalsha: (sha: string, numKeys: number, ...rest: (string | number)[]) => {
        if (forgotten.has(sha)) return real.evalsha(sha, numKeys, ...rest);
        forgotten.add(sha);
        return Promise.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
      },
      eval: (...args: (string | number)[]) => (real.eval as (...a: (string | number)[]) => Promise<unknown>)(...args),
    };
    const limiter = createRedisRateLimiter({ redis: forgetful as unknown as Redis, keyPrefix });
    const spec: BucketSpec = { perMinute: 10 };
    const trips = async (call: () => Promise<unknown>) => {
      const before = limiter.roundTrips();
      await call();
      return limiter.roundTrips() - before;
    };
    const calls = [
      () => limiter.take([{ bucket: 'b', spec, amount: 1 }], t0),
      () => limiter.adjust('b', spec, 1, t0),
      () => limiter.peek('b', spec, t0),
    ];
    const counts: number[] = [];
    for (const call of [...calls, ...calls]) counts.push(await trips(call));
    expect(counts).toEqual([2, 2, 2, 1, 1, 1]);
    expect((await limiter.peek('b', spec, t0)).remaining).toBe(6);
    await limiter.close();
    await real.quit();
  });

  it('stays exact at large limits where floating point would drift', async () => {
    const limiter = open();
    const spec: BucketSpec = { perMinute: 7_000_003 };
    await limiter.take([{ bucket: 'tpm', spec, amount: 7_000_003 }], t0);
    // 1 ms of refill is 7,000,003 units; a token is 60,000 units.
    let nowMs = t0;
    for (let i = 0; i < 25; i++) {
      nowMs += 1;
      await limiter.peek('tpm', spec, nowMs);
    }
    const state = await limiter.peek('tpm', spec, nowMs);
    expect(state.remaining).toBe(Math.floor((25 * 7_000_003) / 60_000));
    expect(state.resetMs).toBe(60_000 - 25);
  });

  it('rejects non-integer amounts and limits loudly (a programmer error)', async () => {
    const limiter = open();
    await expect(limiter.take([{ bucket: 'b', spec: { perMinute: 10 }, amount: 0.5 }], t0)).rejects.toThrow(RangeError);
    await expect(limiter.peek('b', { perMinute: 1.5 }, t0)).rejects.toThrow(RangeError);
  });

  it('fails a request with a retryable 503 when Redis is unreachable', async () => {
    const limiter = createRedisRateLimiter({ url: 'redis://127.0.0.1:1', keyPrefix: 'unused:', commandTimeoutMs: 500 });
    try {
      const error = await limiter.peek('b', { perMinute: 10 }, t0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ status: 503, retryable: true, code: 'rate_limiter_unavailable' });
    } finally {
      await limiter.close();
    }
  });
});
