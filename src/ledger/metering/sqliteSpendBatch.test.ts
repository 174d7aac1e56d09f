/**
 * The spend counters and remembered reads of the SQLite metering adapter, on a real SQLite file: counters written once
 * per row at COMMIT and dropped on rollback; reads remembered across hot-path transactions and forgotten as soon as
 * anything else writes the file (an admin transaction, a write outside one, another connection) or a rollback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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
      expect(batch.budgetUsed('prj', 'USD', 'MONTH:2025-01')).toBe(4n);
    });
    expect(keyRows(s)).toEqual([{ currency: 'DIEM', period_key: 'EPOCH:1', spent_nano: 2, reserved_nano: 3 }]);
    expect(budgetRows(s)).toEqual([{ scope_id: 'prj', class: 'USD', spent_nano: 4, reserved_nano: 0 }]);
    // Outside a transaction: the database's values.
    expect(batch.keySpend('k', 'DIEM', 'EPOCH:1')).toEqual({ spentNano: 2n, reservedNano: 3n });
    // The next hot-path transaction reads the remembered values, which the flush moved.
    expect(await s.write(() => batch.keySpend('k', 'DIEM', 'EPOCH:1'))).toEqual({ spentNano: 2n, reservedNano: 3n });
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

  it('remembers a read across hot-path transactions, never outside one, and forgets it on a rollback', async () => {
    const { storage: s, batch } = open();
    let reads = 0;
    const read = () => ++reads;
    expect([batch.memo('key', 'x', read), batch.memo('key', 'x', read)]).toEqual([1, 2]);
    expect(await s.write(() => [batch.memo('key', 'x', read), batch.memo('key', 'x', read)])).toEqual([3, 3]);
    expect(await s.write(() => batch.memo('key', 'x', read))).toBe(3);
    await expect(
      s.write(() => {
        batch.memo('budgets', 'y', read);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.write(() => [batch.memo('key', 'x', read), batch.memo('budgets', 'y', read)])).toEqual([5, 6]);
  });

  it('forgets what it remembered once anything but the hot path writes the file', async () => {
    const { storage: s, batch } = open();
    let reads = 0;
    const read = () => ++reads;
    const remembered = () => s.write(() => batch.memo('key', 'x', read));
    expect(await remembered()).toBe(1);
    expect(await remembered()).toBe(1);
    // An admin transaction (a key revoked, a budget lowered) reads and writes at once: never remembered.
    expect(s.tx(() => batch.memo('key', 'x', read))).toBe(2);
    expect(await remembered()).toBe(3);
    // A write of this connection outside any transaction.
    s.db.exec("INSERT INTO budget_spend (scope_id, class, period_key) VALUES ('a', 'USD', 'LIFETIME')");
    expect(await remembered()).toBe(4);
    expect(await remembered()).toBe(4);
    // A commit of another connection (a second gateway on the same file).
    const other = new DatabaseSync(join(directory!, 'ledger.sqlite'));
    other.exec("INSERT INTO budget_spend (scope_id, class, period_key) VALUES ('b', 'USD', 'LIFETIME')");
    other.close();
    expect(await remembered()).toBe(5);
    expect(await remembered()).toBe(5);
  });

  it('reads counters another connection moved, and keeps its own moves in what it remembers', async () => {
    const { storage: s, batch } = open();
    const used = () => s.write(() => batch.budgetUsed('prj', 'DIEM', 'EPOCH:1'));
    await s.write(() => batch.addBudget('prj', 'DIEM', 'EPOCH:1', 0n, 5n));
    expect(await used()).toBe(5n);
    await s.write(() => batch.addBudget('prj', 'DIEM', 'EPOCH:1', 3n, -5n));
    expect(await used()).toBe(3n);
    const other = new DatabaseSync(join(directory!, 'ledger.sqlite'));
    other.exec("UPDATE budget_spend SET spent_nano = spent_nano + 10 WHERE scope_id = 'prj'");
    other.close();
    expect(await used()).toBe(13n);
    expect(budgetRows(s)).toEqual([{ scope_id: 'prj', class: 'DIEM', spent_nano: 13, reserved_nano: 0 }]);
  });

  it('reads a row moved before it was ever read at its written value, and inserts a row a release finds missing', async () => {
    const { storage: s, batch } = open();
    await s.write(() => batch.addBudget('prj', 'USD', 'EPOCH:1', 0n, 5n));
    await s.write(() => batch.addBudget('prj', 'USD', 'EPOCH:1', 1n, 2n));
    expect(await s.write(() => batch.budgetUsed('prj', 'USD', 'EPOCH:1'))).toBe(8n);
    // Many rows in one transaction: more than one statement's worth, gains and releases together.
    await s.write(() => {
      for (let i = 0; i < 150; i++) batch.addKey(`k${i}`, 'DIEM', 'LIFETIME', 0n, 10n);
    });
    await s.write(() => {
      for (let i = 0; i < 150; i++) batch.addKey(`k${i}`, 'DIEM', 'LIFETIME', 4n, i % 2 === 0 ? -10n : 1n);
      batch.addBudget('gone', 'DIEM', 'EPOCH:1', 3n, -4n);
    });
    const sums = s.db.prepare('SELECT sum(spent_nano) AS spent, sum(reserved_nano) AS reserved FROM key_spend').get();
    expect(sums).toEqual({ spent: 600, reserved: 75 * 11 });
    expect(budgetRows(s)).toContainEqual({ scope_id: 'gone', class: 'DIEM', spent_nano: 3, reserved_nano: 0 });
  });
});
