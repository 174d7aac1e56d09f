import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { createKeyCache } from './keyCache.ts';

describe('createKeyCache', () => {
  let directory: string;
  let ledger: Ledger;
  let accountId: string;
  const nowMs = Date.UTC(2025, 0, 2, 12);
  let monotonicMs = 0;
  const limits = { ttlMs: 1_000, entriesMax: 100 };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-key-cache-'));
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: () => nowMs });
    accountId = (await ledger.createAccount()).id;
    monotonicMs = 0;
  });
  afterEach(async () => {
    await ledger.close();
    await rm(directory, { recursive: true, force: true });
  });

  const newKey = (expiresAtMs: number | null = null) =>
    ledger.createKey({ accountId, kind: 'INFERENCE', name: 'k', expiresAtMs });

  it('trusts an authenticated key for the TTL, then asks the ledger again', async () => {
    const cache = createKeyCache(ledger, limits, () => monotonicMs);
    const { key, secret } = await newKey();
    expect((await cache.authenticate(secret, nowMs)).id).toBe(key.id);
    await ledger.revokeKey(key.id); // behind the gateway's back: another replica, say
    monotonicMs += 999;
    expect((await cache.authenticate(secret, nowMs)).id).toBe(key.id);
    monotonicMs += 1;
    await expect(cache.authenticate(secret, nowMs)).rejects.toMatchObject({ code: 'api_key_revoked' });
  });

  it('refuses a remembered key from the moment it expires', async () => {
    const cache = createKeyCache(ledger, limits, () => monotonicMs);
    const { secret } = await newKey(nowMs + 60_000);
    await cache.authenticate(secret, nowMs);
    expect((await cache.authenticate(secret, nowMs + 59_999)).expiresAtMs).toBe(nowMs + 60_000);
    await expect(cache.authenticate(secret, nowMs + 60_000)).rejects.toMatchObject({ code: 'api_key_expired' });
  });

  it('asks the ledger again for a key it was told to forget', async () => {
    const cache = createKeyCache(ledger, limits, () => monotonicMs);
    const { key, secret } = await newKey();
    await cache.authenticate(secret, nowMs);
    await ledger.revokeKey(key.id);
    cache.forget(key.id);
    await expect(cache.authenticate(secret, nowMs)).rejects.toMatchObject({ code: 'api_key_revoked' });
  });

  it('does not keep a ledger read that began before a forget', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The real ledger, answering late, as a PostgreSQL ledger can while the key is revoked.
    const slow: Ledger = Object.create(ledger, {
      authenticate: {
        value: async (secret: string) => {
          const key = await ledger.authenticate(secret);
          await gate;
          return key;
        },
      },
    });
    const cache = createKeyCache(slow, limits, () => monotonicMs);
    const { key, secret } = await newKey();
    const first = cache.authenticate(secret, nowMs);
    await ledger.revokeKey(key.id);
    cache.forget(key.id);
    release();
    expect((await first).id).toBe(key.id);
    await expect(cache.authenticate(secret, nowMs)).rejects.toMatchObject({ code: 'api_key_revoked' });
  });

  it('keeps at most entriesMax keys, dropping the oldest', async () => {
    const cache = createKeyCache(ledger, { ttlMs: 1_000, entriesMax: 1 }, () => monotonicMs);
    const older = await newKey();
    const newer = await newKey();
    await cache.authenticate(older.secret, nowMs);
    await cache.authenticate(newer.secret, nowMs);
    await ledger.revokeKey(older.key.id);
    await ledger.revokeKey(newer.key.id);
    await expect(cache.authenticate(older.secret, nowMs)).rejects.toMatchObject({ code: 'api_key_revoked' });
    expect((await cache.authenticate(newer.secret, nowMs)).id).toBe(newer.key.id);
  });
});
