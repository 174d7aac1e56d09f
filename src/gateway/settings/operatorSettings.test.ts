import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidRequestError } from '../../core/errors.ts';
import type { PriceBook, PriceSheet } from '../../core/pricing.ts';
import {
  postgresSettingsHarness,
  type SettingsHarness,
  sqliteSettingsHarness,
  type TestSettingsDatabase,
} from '../../ledger/settings/testing.ts';
import { fakeClock } from '../../ledger/testing/fakeClock.ts';
import type { RateLimitConfig } from '../limits.ts';
import { bookOf, type OperatorSettings, openOperatorSettings, openOperatorSettingsFor } from './operatorSettings.ts';

const startMs = Date.UTC(2025, 0, 2, 12);
const defaults: { prices: PriceBook; rateLimits: RateLimitConfig } = {
  prices: {
    versions: [
      { effectiveFromMs: 0, models: { m: { kind: 'text', inputPer1M: 200_000_000n, outputPer1M: 800_000_000n } } },
    ],
  },
  rateLimits: {
    key: { requestsPerMinute: 500, tokensPerMinute: 1_000_000 },
    account: { requestsPerMinute: 2_000, tokensPerMinute: 4_000_000 },
  },
};
const repriced: PriceSheet = {
  effectiveFromMs: startMs,
  // Nine decimal places and more than 2^53 nano-USD: both must come back exactly.
  models: {
    m: { kind: 'text', inputPer1M: 300_000_001n, outputPer1M: 900_000_000n, cacheReadPer1M: 1n },
    big: { kind: 'text', inputPer1M: 12_345_678_901_234_567_891n, outputPer1M: 0n },
    img: { kind: 'image', perImage: 40_000_000n, byResolution: { '1024x1024': 50_000_000n } },
  },
};
const limits: RateLimitConfig = {
  key: { requestsPerMinute: 7, tokensPerMinute: 7_000 },
  account: { requestsPerMinute: 70, tokensPerMinute: 70_000 },
};

const harnesses: SettingsHarness[] = [sqliteSettingsHarness, await postgresSettingsHarness()];

for (const harness of harnesses) {
  describe.skipIf(harness.skipReason !== null)(`operator settings on ${harness.name}`, () => {
    let database: TestSettingsDatabase;
    const opened: OperatorSettings[] = [];
    const clock = fakeClock(startMs);
    const open = async (pollIntervalMs = 0) => {
      const settings = await openOperatorSettings({
        store: await database.open(),
        defaults,
        clock: clock.now,
        pollIntervalMs,
      });
      opened.push(settings);
      return settings;
    };

    beforeEach(() => {
      database = harness.create();
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((settings) => settings.close()));
      await database.cleanup();
    });

    it('starts from the defaults when nothing is stored', async () => {
      const settings = await open();
      expect(settings.prices.current()).toEqual(defaults.prices);
      expect(settings.rateLimits()).toEqual(defaults.rateLimits);
      expect(settings.providers()).toEqual({});
      expect(settings.models()).toEqual({});
    });

    it('keeps prices, rate limits, provider and model settings across a restart', async () => {
      const first = await open();
      await first.prices.add(repriced, { actor: 'test', note: 'reprice' });
      await first.setRateLimits(limits);
      await first.updateProvider('cloud', () => ({ enabled: false, priority: 5 }));
      await first.updateModel('m', () => ({ enabled: true, contextLength: 1_024 }));
      await first.updateModel('other', () => ({ enabled: false }));
      await first.close();
      opened.splice(0);

      const again = await open();
      expect(again.prices.current().versions).toEqual([...defaults.prices.versions, repriced]);
      expect(again.prices.priceAt('big', startMs)).toEqual(repriced.models.big);
      expect(again.prices.priceAt('m', startMs - 1)).toEqual(defaults.prices.versions[0]!.models.m);
      expect(again.rateLimits()).toEqual(limits);
      expect(again.provider('cloud')).toEqual({ enabled: false, priority: 5 });
      expect(again.model('m')).toEqual({ enabled: true, contextLength: 1_024 });
      expect(again.model('other')).toEqual({ enabled: false });
      const [newest] = await again.history('prices', 10);
      expect(newest).toMatchObject({ kind: 'prices', actor: 'test', note: 'reprice', createdAtMs: startMs });
    });

    it('refuses a price sheet that does not go forward, and stores nothing', async () => {
      const settings = await open();
      await settings.prices.add(repriced);
      await expect(settings.prices.add({ ...repriced, effectiveFromMs: startMs - 1 })).rejects.toThrow(
        InvalidRequestError,
      );
      expect(await settings.history('prices', 10)).toHaveLength(1);
    });

    it('refuses a bad rate limit with a 400 naming the field, and stores nothing', async () => {
      const settings = await open();
      const bad = { ...limits, account: { requestsPerMinute: 0, tokensPerMinute: 1 } };
      await expect(settings.setRateLimits(bad)).rejects.toMatchObject({
        status: 400,
        param: 'account.requestsPerMinute',
      });
      expect(await settings.history('rateLimits', 10)).toEqual([]);
      expect(settings.rateLimits()).toEqual(defaults.rateLimits);
    });

    it('shows a change made through one instance to another after refresh()', async () => {
      const one = await open();
      const two = await open();
      await one.setRateLimits(limits);
      await one.prices.add(repriced);
      await one.updateModel('m', () => ({ enabled: false }));
      expect(two.rateLimits()).toEqual(defaults.rateLimits);
      const before = two.revision();
      await two.refresh();
      expect(two.revision()).toBeGreaterThan(before);
      expect(two.rateLimits()).toEqual(limits);
      expect(two.prices.current().versions.at(-1)).toEqual(repriced);
      expect(two.model('m')).toEqual({ enabled: false });
    });

    it('loses neither of two instances’ changes to different providers made from the same version', async () => {
      const one = await open();
      const two = await open();
      await Promise.all([
        one.updateProvider('a', () => ({ enabled: false, priority: 1 })),
        two.updateProvider('b', () => ({ enabled: true, priority: 2 })),
      ]);
      await one.refresh();
      expect(one.providers()).toEqual({ a: { enabled: false, priority: 1 }, b: { enabled: true, priority: 2 } });
    });

    it('builds a replica’s change from the newest stored value, never from a stale copy', async () => {
      const one = await open();
      const two = await open();
      await one.updateModel('m', () => ({ enabled: false }));
      // two has not refreshed: its update must still see m's setting, and keep it.
      await two.updateModel('n', () => ({ enabled: false }));
      expect(two.models()).toEqual({ m: { enabled: false }, n: { enabled: false } });
    });

    it('polls the store and applies other replicas’ changes on its own', async () => {
      const one = await open();
      const two = await open(20);
      await one.setRateLimits(limits);
      await vi.waitFor(() => expect(two.rateLimits()).toEqual(limits), { timeout: 10_000, interval: 20 });
    });
  });
}

describe('openOperatorSettingsFor', () => {
  it('opens the settings in the ledger’s SQLite file', async () => {
    const database = sqliteSettingsHarness.create();
    const where = database.where as { sqlitePath: string };
    try {
      const settings = await openOperatorSettingsFor({ ...where, defaults, clock: () => startMs, pollIntervalMs: 0 });
      await settings.setRateLimits(limits);
      await settings.close();
      const store = await database.open();
      expect((await store.latest('rateLimits'))?.value).toEqual(limits);
      await store.close();
    } finally {
      await database.cleanup();
    }
  });
});

describe('bookOf', () => {
  it('keeps the defaults before the first stored sheet and lets stored sheets take over from there', () => {
    const at = (effectiveFromMs: number): PriceSheet => ({ effectiveFromMs, models: {} });
    const defaultsBook = { versions: [at(0), at(10), at(30)] };
    expect(bookOf(defaultsBook, [])).toBe(defaultsBook);
    expect(bookOf(defaultsBook, [at(20), at(40)]).versions).toEqual([at(0), at(10), at(20), at(40)]);
  });
});
