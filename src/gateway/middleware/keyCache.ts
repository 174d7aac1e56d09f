/**
 * The keys this gateway authenticated in the last `ttlMs`, by the hash of their secret (no secret is kept), so that
 * most requests skip the ledger's key lookup (a hash and two SELECTs).
 *
 * Why it is safe: metering does not rely on it, because `ledger.reserve` re-checks revocation, expiry and allowed
 * models atomically. Expiry is checked against the clock on every hit. A key updated or revoked through this
 * gateway's own routes is forgotten at once (`forget`); one revoked or changed elsewhere (another replica, the ledger
 * directly) still passes this gateway's non-metered routes for at most `ttlMs`.
 */
import { hash } from 'node:crypto';
import { checkKeyUsable } from '../../ledger/accounts/accountRules.ts';
import type { ApiKey, Ledger } from '../../ledger/types.ts';

export interface KeyCache {
  /** The key for a presented secret, or the ledger's AuthenticationError (unknown, revoked or expired at `nowMs`). */
  authenticate(secret: string, nowMs: number): Promise<ApiKey>;
  /** Drops the key, so its next request asks the ledger. */
  forget(keyId: string): void;
}

export interface KeyCacheLimits {
  ttlMs: number;
  entriesMax: number;
}

interface Entry {
  key: ApiKey;
  readAtMs: number;
}

/**
 * `monotonicMs` times the entries: freshness is about how long ago the ledger was asked, not the business clock
 * (which tests stop and move), so it is a monotonic clock by default.
 */
export function createKeyCache(
  ledger: Ledger,
  limits: KeyCacheLimits,
  monotonicMs: () => number = () => performance.now(),
): KeyCache {
  const entries = new Map<string, Entry>();
  // Bumped by every forget: a ledger read that began before it may have seen the key as it was, and is not kept.
  let generation = 0;

  return {
    async authenticate(secret, nowMs) {
      const secretHash = hash('sha256', secret, 'base64');
      const entry = entries.get(secretHash);
      if (entry !== undefined) {
        if (monotonicMs() - entry.readAtMs < limits.ttlMs)
          return checkKeyUsable(entry.key, entry.key.accountId, null, nowMs);
        entries.delete(secretHash);
      }
      const readAtMs = monotonicMs();
      const readGeneration = generation;
      const key = await ledger.authenticate(secret);
      if (readGeneration === generation && limits.ttlMs > 0) {
        if (entries.size >= limits.entriesMax) entries.delete(entries.keys().next().value!);
        entries.set(secretHash, { key, readAtMs });
      }
      return key;
    },
    forget(keyId) {
      generation++;
      for (const [hash, entry] of entries) if (entry.key.id === keyId) entries.delete(hash);
    },
  };
}
