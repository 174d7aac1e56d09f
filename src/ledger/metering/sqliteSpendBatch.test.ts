/**
 * The per-transaction spend counters of the SQLite metering adapter, on a real SQLite file: written once per row at
 * COMMIT, dropped on rollback, and remembered reads that last one transaction only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStorage, type SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { SqliteSpendBatch } from './sqliteSpendBatch.ts';

let directory: string | null = null;
let storage: SqliteStorage | null = null;
afterEach(async () => {
  await storage?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
  [storage, directory] = [null, null];
});

function open(): { storage: SqliteStorage; batch: SqliteSpendBatch } {
  directory = mkdtempSync(join(tmpdir(), 'perdiem-spend-batch-'));
  storage = openSqliteStorage({ path: join(directory, 'ledger.sqlite'), backgroundCheckpoints: false });
  return { storage, batch: new SqliteSpendBatch(storage) };
}

const keyRows = (s: SqliteStorage) =>
  s.db.prepare('SELECT currency, period_key, spent_nano, reserved_nano FROM key_spend ORDER BY period_key').all();
const budgetRows = (s: SqliteStorage) =>
  s.db.prepare('SELECT scope_id, class, spent_nano, reserved_nano FROM budget_spend ORDER BY scope_id').all();

describe('SqliteSpendBatch', () => {
  it('sums the moves of a transaction per row, shows them to reads before the COMMIT, and writes each row once', async () => {
    const { storage: s, batch } = open();
    const seen = await Promise.all([
      s.write(() => batch.addKey('k', 'DIEM', 'EPOCH:1', 0n, 5n)),
      s.write(() => {
        batch.addKey('k', 'DIEM', 'EPOCH:1', 0n, 3n);
        batch.addBudget('prj', 'USD', 'MONTH:2025-01', 0n, 7n);
        const { spentNano, reservedNano } = batch.keySpend('k', 'DIEM', 'EPOCH:1');
        return [spentNano, reservedNano, keyRows(s).length];
      }),
    ]);
    expect(seen[1]).toEqual([0n, 8n, 0]);
    expect(keyRows(s)).toEqual([{ currency: 'DIEM', period_key: 'EPOCH:1', spent_nano: 0, reserved_nano: 8 }]);
    // A release: spent grows, reserved falls below what the insert half of the upsert may hold.
    await s.write(() => {
      batch.addKey('k', 'DIEM', 'EPOCH:1', 2n, -5n);
      batch.addBudget('prj', 'USD', 'MONTH:2025-01', 4n, -7n);
      expect(batch.budgetUsed('prj', 'USD', 'MONTH:2025-01')).toBe(-3n);
    });
    expect(keyRows(s)).toEqual([{ currency: 'DIEM', period_key: 'EPOCH:1', spent_nano: 2, reserved_nano: 3 }]);
    expect(budgetRows(s)).toEqual([{ scope_id: 'prj', class: 'USD', spent_nano: 4, reserved_nano: 0 }]);
    expect(batch.keySpend('k', 'DIEM', 'EPOCH:1')).toMatchObject({ spentNano: 0n, reservedNano: 0n });
  });

  it('drops what is pending when the transaction rolls back', () => {
    const { storage: s, batch } = open();
    expect(() =>
      s.tx(() => {
        batch.addKey('k', 'USD', 'LIFETIME', 0n, 9n);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    s.tx(() => batch.addKey('k', 'USD', 'LIFETIME', 0n, 1n));
    expect(keyRows(s)).toEqual([{ currency: 'USD', period_key: 'LIFETIME', spent_nano: 0, reserved_nano: 1 }]);
  });

  it('remembers a read for the rest of a transaction only, and never outside one', () => {
    const { storage: s, batch } = open();
    let reads = 0;
    const read = () => ++reads;
    expect([batch.memo('key', 'x', read), batch.memo('key', 'x', read)]).toEqual([1, 2]);
    expect(s.tx(() => [batch.memo('key', 'x', read), batch.memo('key', 'x', read)])).toEqual([3, 3]);
    expect(s.tx(() => batch.memo('key', 'x', read))).toBe(4);
    expect(() =>
      s.tx(() => {
        batch.memo('budgets', 'y', read);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.tx(() => batch.memo('budgets', 'y', read))).toBe(6);
  });
});
