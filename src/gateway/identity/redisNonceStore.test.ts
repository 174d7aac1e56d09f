import { afterAll, describe, expect, it } from 'vitest';
import {
  deleteKeys,
  openTestRedis,
  redisSkipReason,
  testKeyPrefix,
  testRedisUrl,
} from '../rateLimit/redisTestHarness.ts';
import { createRedisNonceStore } from './redisNonceStore.ts';

const skip = await redisSkipReason();
const keyPrefix = testKeyPrefix('nonces');

describe.skipIf(skip !== null)('Redis nonce store', () => {
  const replicas = [
    createRedisNonceStore({ url: testRedisUrl, keyPrefix }),
    createRedisNonceStore({ url: testRedisUrl, keyPrefix }),
  ];
  const inspector = openTestRedis();
  afterAll(async () => {
    await deleteKeys(inspector, keyPrefix);
    await inspector.quit();
    for (const store of replicas) await store.close();
  });

  it('lets exactly one of many concurrent consumers on two replicas spend a nonce', async () => {
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => replicas[i % 2]!.consume('n-1', now + 60_000, now)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await replicas[0]!.consume('n-2', now + 60_000, now)).toBe(true);
  });

  it('keeps a consumed nonce until its token expires, then lets the key go', async () => {
    const now = Date.now();
    await replicas[0]!.consume('n-3', now + 5_000, now);
    const ttl = await inspector.pttl(`${keyPrefix}n-3`);
    expect(ttl).toBeGreaterThan(3_000);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });
});
