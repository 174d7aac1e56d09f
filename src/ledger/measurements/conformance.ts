/**
 * The compute measurements every Ledger adapter must keep (MeasurementsLedger). `describeLedgerConformance`
 * (../conformance.ts) runs it once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, start } from '../conformanceHelpers.ts';
import { fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { Ledger } from '../types.ts';
import type { ComputeMeasurement } from './measurementsLedger.ts';

const row = (over: Partial<ComputeMeasurement> = {}): ComputeMeasurement => ({
  model: 'm-small',
  provider: 'local',
  kind: 'text',
  prefillSecondsPerToken: 0.000_123_456_789,
  prefillSamples: 3,
  decodeSecondsPerToken: 0.004_5,
  decodeSamples: 2,
  secondsPerImage: null,
  imageSamples: 0,
  samples: 3,
  updatedAtMs: start,
  ...over,
});

export function describeMeasurementsConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: measurements`, () => {
    let ledgers: Ledger[];

    beforeEach(async () => {
      ledgers = await harness.openPeers(fakeClock(start).now, ['first', 'restarted']);
    });
    afterEach(async () => {
      for (const ledger of ledgers) await ledger.close();
    });

    it('reads back what it saved, exactly, in (model, provider, kind) order, from another opening', async () => {
      const [first, restarted] = ledgers as [Ledger, Ledger];
      expect(await first.listMeasurements()).toEqual([]);
      const saved = [
        row({ model: 'm-small', kind: 'embedding', decodeSecondsPerToken: null, decodeSamples: 0 }),
        row({ model: 'm-big', prefillSecondsPerToken: 1.5e-9, decodeSecondsPerToken: 123.456 }),
        row({ model: 'm-small' }),
        row({ model: 'm-img', provider: 'up', kind: 'image', secondsPerImage: 2.25, imageSamples: 7, samples: 7 }),
      ];
      await first.saveMeasurements(saved);
      // By model, then provider, then kind: m-big, m-img, m-small (embedding before text).
      const expected = [saved[1], saved[3], saved[0], saved[2]];
      expect(await first.listMeasurements()).toEqual(expected);
      expect(await restarted.listMeasurements()).toEqual(expected);
    });

    it('replaces a row by (model, provider, kind) and leaves the others', async () => {
      const [ledger] = ledgers as [Ledger];
      await ledger.saveMeasurements([row(), row({ provider: 'other' })]);
      const newer = row({ decodeSecondsPerToken: 0.009, decodeSamples: 40, samples: 41, updatedAtMs: start + 10_000 });
      await ledger.saveMeasurements([newer]);
      expect(await ledger.listMeasurements()).toEqual([newer, row({ provider: 'other' })]);
    });

    it('refuses a non-finite or negative reading and writes nothing of that batch', async () => {
      const [ledger] = ledgers as [Ledger];
      await expectError(
        ledger.saveMeasurements([row({ model: 'fine' }), row({ decodeSecondsPerToken: Number.NaN })]),
        400,
        'invalid_value',
        'decodeSecondsPerToken',
      );
      await expectError(ledger.saveMeasurements([row({ prefillSecondsPerToken: -1 })]), 400, 'invalid_value');
      await expectError(ledger.saveMeasurements([row({ samples: 1.5 })]), 400, 'invalid_value', 'samples');
      await expectError(
        ledger.saveMeasurements([row({ kind: 'audio' as ComputeMeasurement['kind'] })]),
        400,
        'invalid_value',
        'kind',
      );
      expect(await ledger.listMeasurements()).toEqual([]);
    });
  });
}
