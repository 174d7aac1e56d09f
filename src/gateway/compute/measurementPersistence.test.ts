import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { sampleOf } from './engineSample.ts';
import { startMeasurementPersistence } from './measurementPersistence.ts';
import { createMeasurementTable } from './measurementTable.ts';

const reading = sampleOf('m', 'p', 'text', { decodeTokens: 10, decodeSeconds: 0.5 });
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((done) => setTimeout(done, 10));
};

describe('measurement persistence (SQLite)', () => {
  let ledger: Ledger;
  afterEach(async () => {
    await ledger?.close();
  });

  it('loads the stored rows at start and writes changed rows every interval, without a stop', async () => {
    ledger = openSqliteLedger({ path: ':memory:', clock: () => 1 });
    const stored = createMeasurementTable();
    stored.record(sampleOf('old', 'p', 'text', { prefillTokens: 4, prefillSeconds: 0.4 }), 5);
    await ledger.saveMeasurements(stored.rows());
    const table = createMeasurementTable();
    const persistence = await startMeasurementPersistence({ ledger, table, intervalMs: 10, onError: () => {} });
    expect(table.rows().map((row) => row.model)).toEqual(['old']);
    table.record(reading, 9);
    await until(async () => (await ledger.listMeasurements()).length === 2);
    expect((await ledger.listMeasurements()).map((row) => [row.model, row.samples])).toEqual([
      ['m', 1],
      ['old', 1],
    ]);
    await persistence.stop();
  });

  it('keeps rows whose save failed changed, and writes them on the next pass', async () => {
    ledger = openSqliteLedger({ path: ':memory:', clock: () => 1 });
    let failing = true;
    const errors: unknown[] = [];
    const flaky = {
      listMeasurements: () => ledger.listMeasurements(),
      saveMeasurements: async (rows: Parameters<Ledger['saveMeasurements']>[0]) => {
        if (failing) throw new Error('database away');
        await ledger.saveMeasurements(rows);
      },
    };
    const table = createMeasurementTable();
    const persistence = await startMeasurementPersistence({
      ledger: flaky,
      table,
      intervalMs: 3_600_000,
      onError: (error) => errors.push(error),
    });
    table.record(reading, 9);
    await persistence.flush();
    expect(errors).toHaveLength(1);
    expect(await ledger.listMeasurements()).toEqual([]);
    failing = false;
    await persistence.stop();
    expect(await ledger.listMeasurements()).toEqual(table.rows());
  });
});
