/**
 * How the rate-limit tests reach Redis: PERDIEM_TEST_REDIS_URL (default redis://127.0.0.1:6379), a key prefix of
 * their own per run, and every key under it deleted afterwards. When Redis is unreachable the Redis suites are
 * skipped with a clear line in the output.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const testRedisUrl = process.env.PERDIEM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<string | null> | null = null;

/** Null when Redis answers, else the reason (printed once). */
export function redisSkipReason(): Promise<string | null> {
  reachable ??= (async () => {
    const redis = new Redis(testRedisUrl, {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    let lastError: Error | null = null;
    redis.on('error', (error: Error) => {
      lastError = error;
    });
    try {
      await redis.connect();
      await redis.ping();
      return null;
    } catch (error) {
      const reason = `Redis unreachable at ${testRedisUrl}: skipping the Redis rate-limiter suites (${(lastError ?? (error as Error)).message})`;
      console.warn(reason);
      return reason;
    } finally {
      redis.disconnect();
    }
  })();
  return reachable;
}

/** A prefix no other run (or test) shares. */
export function testKeyPrefix(label: string): string {
  return `perdiem_test:${label}:${randomBytes(6).toString('hex')}:`;
}

/** A plain client for inspecting and cleaning up keys. */
export function openTestRedis(): Redis {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return redis;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
