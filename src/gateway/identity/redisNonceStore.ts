/**
 * Single-use nonces shared by every gateway replica: a nonce is consumed by `SET key 1 NX PX ttl`, which Redis
 * grants to exactly one caller; the key expires with the token or message it belongs to.
 */
import { Redis } from 'ioredis';
import { UnavailableError } from '../../core/errors.ts';
import type { NonceStore } from './walletToken.ts';

export interface RedisNonceStore extends NonceStore {
  close(): Promise<void>;
}

export function createRedisNonceStore(options: { url: string; keyPrefix: string }): RedisNonceStore {
  const redis = new Redis(options.url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
  return {
    async consume(nonce, expiresAtMs, nowMs) {
      // Keep the key at least a second, so a nonce that expires this instant is still refused twice.
      const ttlMs = Math.max(1_000, expiresAtMs - nowMs);
      try {
        return (await redis.set(`${options.keyPrefix}${nonce}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
      } catch (error) {
        // Fail closed: without the store a nonce could be replayed.
        throw new UnavailableError('the nonce store (Redis) is unavailable', {
          code: 'nonce_store_unavailable',
          cause: error,
        });
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
