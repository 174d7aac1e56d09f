import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidRequestError } from '../../core/errors.ts';
import { openSqliteLedger } from '../sqlite/sqliteLedger.ts';
import { settingsLimits } from './limits.ts';
import { openSettingsStore } from './openSettingsStore.ts';
import {
  memorySettingsHarness,
  postgresSettingsHarness,
  type SettingsHarness,
  sqliteSettingsHarness,
  type TestSettingsDatabase,
} from './testing.ts';
import type { SettingsStore } from './types.ts';

const harnesses: SettingsHarness[] = [memorySettingsHarness, sqliteSettingsHarness, await postgresSettingsHarness()];
const at = (createdAtMs: number) => ({ createdAtMs });

for (const harness of harnesses) {
  describe.skipIf(harness.skipReason !== null)(`settings store on ${harness.name}`, () => {
    let database: TestSettingsDatabase;
    let store: SettingsStore;

    beforeEach(async () => {
      database = harness.create();
      store = await database.open();
    });

    afterEach(async () => {
      await store.close();
      await database.cleanup();
    });

    it('starts empty: head 0, no latest, no history', async () => {
      expect(await store.head()).toBe(0);
      expect(await store.latest('prices')).toBeNull();
      expect(await store.history('rateLimits', 10)).toEqual([]);
      expect(await store.since(0, 10)).toEqual([]);
    });

    it('numbers versions in one increasing sequence across kinds, and head is the highest', async () => {
      const a = await store.append('prices', { sheet: 1 }, { createdAtMs: 10, actor: 'admin-api', note: 'first' });
      const b = await store.append('rateLimits', { key: 1 }, at(11));
      const c = await store.append('prices', { sheet: 2 }, at(12));
      expect(b.version).toBeGreaterThan(a.version);
      expect(c.version).toBeGreaterThan(b.version);
      expect(await store.head()).toBe(c.version);
      expect(a).toEqual({
        version: a.version,
        kind: 'prices',
        value: { sheet: 1 },
        createdAtMs: 10,
        actor: 'admin-api',
        note: 'first',
      });
      expect(b).toMatchObject({ actor: null, note: null });
    });

    it('answers latest and history per kind, newest first, and since across kinds, oldest first', async () => {
      const records = [];
      for (let i = 0; i < 5; i++) records.push(await store.append(i % 2 ? 'models' : 'providers', { i }, at(i)));
      expect((await store.latest('providers'))?.value).toEqual({ i: 4 });
      expect((await store.latest('models'))?.value).toEqual({ i: 3 });
      expect((await store.history('providers', 2)).map((r) => r.value)).toEqual([{ i: 4 }, { i: 2 }]);
      expect((await store.since(records[1]!.version, 10)).map((r) => r.value)).toEqual([{ i: 2 }, { i: 3 }, { i: 4 }]);
      expect((await store.since(0, 2)).map((r) => r.value)).toEqual([{ i: 0 }, { i: 1 }]);
    });

    it('keeps values exactly as written: decimal money strings, key order, unicode, nesting', async () => {
      const value = {
        effectiveFrom: '2025-01-02T12:00:00.000Z',
        models: { zeta: { kind: 'text', inputPer1M: '0.000000001', outputPer1M: '9223372036.854775807' }, alpha: {} },
        note: 'prix ✓ 价格',
        list: [1, 2.5, null, true, ''],
      };
      await store.append('prices', value, at(1));
      const read = (await store.latest('prices'))!.value;
      expect(JSON.stringify(read)).toBe(JSON.stringify(value));
    });

    it('appends conditionally: a stale basedOn stores nothing and throws a ConflictError', async () => {
      const first = await store.append('rateLimits', { v: 1 }, { createdAtMs: 1, basedOn: null });
      await expect(store.append('rateLimits', { v: 2 }, { createdAtMs: 2, basedOn: null })).rejects.toThrow(
        ConflictError,
      );
      const other = await store.append('models', { m: 1 }, at(3));
      // A newer record of another kind does not make this kind's basedOn stale.
      const second = await store.append('rateLimits', { v: 2 }, { createdAtMs: 4, basedOn: first.version });
      expect(second.version).toBeGreaterThan(other.version);
      await expect(
        store.append('rateLimits', { v: 3 }, { createdAtMs: 5, basedOn: first.version }),
      ).rejects.toMatchObject({ status: 409, code: 'settings_version_conflict' });
      expect((await store.history('rateLimits', 10)).map((r) => r.value)).toEqual([{ v: 2 }, { v: 1 }]);
    });

    it('lets exactly one of two replicas win a race on the same basedOn', async () => {
      const base = await store.append('providers', { p: 0 }, at(1));
      const replica = await database.open();
      try {
        const results = await Promise.allSettled([
          store.append('providers', { p: 'a' }, { createdAtMs: 2, basedOn: base.version }),
          replica.append('providers', { p: 'b' }, { createdAtMs: 2, basedOn: base.version }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(ConflictError);
        expect(await store.history('providers', 10)).toHaveLength(2);
      } finally {
        await replica.close();
      }
    });

    it('refuses a value larger than valueBytesMax and stores nothing', async () => {
      const big = 'x'.repeat(settingsLimits.valueBytesMax);
      await expect(store.append('models', { big }, at(1))).rejects.toThrow(InvalidRequestError);
      expect(await store.head()).toBe(0);
    });

    it('keeps every record across a reopen, and numbers on from there', async () => {
      const a = await store.append('prices', { n: 1 }, at(1));
      await store.close();
      store = await database.open();
      expect(await store.head()).toBe(a.version);
      expect((await store.latest('prices'))?.value).toEqual({ n: 1 });
      const b = await store.append('prices', { n: 2 }, at(2));
      expect(b.version).toBeGreaterThan(a.version);
    });
  });
}

describe('settings store beside the SQLite ledger', () => {
  it('shares the ledger file, each keeping its own tables and migration record', async () => {
    const database = sqliteSettingsHarness.create();
    const where = database.where as { sqlitePath: string };
    const ledger = openSqliteLedger({ path: where.sqlitePath, clock: () => 1_000 });
    const store = await openSettingsStore({ sqlitePath: where.sqlitePath });
    try {
      const account = await ledger.createAccount({ name: 'beside' });
      await store.append('rateLimits', { shared: true }, at(1));
      await store.close();
      await ledger.close();
      const again = openSqliteLedger({ path: where.sqlitePath, clock: () => 1_000 });
      const reopened = await openSettingsStore({ sqlitePath: where.sqlitePath });
      expect((await again.getAccount(account.id))?.name).toBe('beside');
      expect((await reopened.latest('rateLimits'))?.value).toEqual({ shared: true });
      await reopened.close();
      await again.close();
    } finally {
      await store.close();
      await database.cleanup();
    }
  });
});
