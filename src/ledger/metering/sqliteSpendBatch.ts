/**
 * The spend counters (key_spend, budget_spend) that the operations of one SQLite transaction move, summed per counter
 * row in memory and written once per row right before the COMMIT: the concurrent reservations of a group commit that
 * share a key, a project or an organization write its counters once, not once each. Reads inside the transaction
 * add what is pending here (`keySpend`, `budgetUsed`), so every check sees every hold before it; the transaction
 * holds the write lock (BEGIN IMMEDIATE), so no other connection reads or writes the counters in between, and a
 * rollback drops what is pending with the rest.
 *
 * The hot path's reads of keys, limits, budgets and counters are remembered for the rest of the transaction
 * (`memo`): nothing a group commit's operations write changes them (the counters wait here), and no other
 * connection writes while the transaction holds the lock; the next transaction reads afresh, so a key revoked or a
 * budget lowered in between is seen at once.
 */
import type { StatementSync } from 'node:sqlite';
import type { NanoUsd } from '../../core/money.ts';
import type { CommitHook } from '../sqlite/groupCommit.ts';
import type { SqliteStorage } from '../sqlite/sqliteStorage.ts';
import type { SpendCurrency } from '../vocabulary.ts';

/**
 * One counter row's change: spent only grows (charges); reserved falls on a release, so a row is inserted with what
 * it gains and updated by the signed change (a CHECK refuses a negative candidate row even when it conflicts).
 */
const upsertSql = (table: string, idColumn: string, classColumn: string) =>
  `INSERT INTO ${table} (${idColumn}, ${classColumn}, period_key, spent_nano, reserved_nano)
    VALUES (?1, ?2, ?3, ?4, max(?5, 0))
    ON CONFLICT DO UPDATE SET spent_nano = spent_nano + ?4, reserved_nano = reserved_nano + ?5`;

type Counter = 'key' | 'budget';

interface PendingSpend {
  counter: Counter;
  /** The key, or the project or organization. */
  id: string;
  spendClass: SpendCurrency;
  periodKey: string;
  spentNano: NanoUsd;
  reservedNano: NanoUsd;
}

type SpendParts = 'spentNano' | 'reservedNano';
const noSpend: Readonly<Pick<PendingSpend, SpendParts>> = { spentNano: 0n, reservedNano: 0n };

/** Reads remembered for a transaction, by kind, each under its own key. */
export type MemoKind = 'key' | 'limits' | 'keySpend' | 'budgets';

export class SqliteSpendBatch implements CommitHook {
  private readonly upsert: Record<Counter, StatementSync>;
  /** Pending rows by counter and id (a key, project or organization has a few: classes × periods). */
  private readonly pending: Record<Counter, Map<string, PendingSpend[]>> = { key: new Map(), budget: new Map() };
  private readonly reads: Record<MemoKind, Map<string, unknown>> = {
    key: new Map(),
    limits: new Map(),
    keySpend: new Map(),
    budgets: new Map(),
  };
  private readonly db: SqliteStorage['db'];

  constructor(storage: SqliteStorage) {
    this.db = storage.db;
    this.upsert = {
      key: storage.prepareOne(upsertSql('key_spend', 'key_id', 'currency')),
      budget: storage.prepareOne(upsertSql('budget_spend', 'scope_id', 'class')),
    };
    storage.addCommitHook(this);
  }

  /** Moves a key's counter of one class and period. */
  addKey(keyId: string, spendClass: SpendCurrency, periodKey: string, spentNano: NanoUsd, reservedNano: NanoUsd) {
    this.add('key', keyId, spendClass, periodKey, spentNano, reservedNano);
  }

  /** Moves a project's or an organization's counter of one class and period. */
  addBudget(scopeId: string, spendClass: SpendCurrency, periodKey: string, spentNano: NanoUsd, reservedNano: NanoUsd) {
    this.add('budget', scopeId, spendClass, periodKey, spentNano, reservedNano);
  }

  /** What is pending on a key's counter (nothing outside a transaction). */
  keySpend(keyId: string, spendClass: SpendCurrency, periodKey: string): Readonly<Pick<PendingSpend, SpendParts>> {
    return this.find('key', keyId, spendClass, periodKey) ?? noSpend;
  }

  /** What is pending (spent and reserved) on a project's or an organization's counter. */
  budgetUsed(scopeId: string, spendClass: SpendCurrency, periodKey: string): NanoUsd {
    const row = this.find('budget', scopeId, spendClass, periodKey);
    return row ? row.spentNano + row.reservedNano : 0n;
  }

  /** `read()`, remembered until the end of the current transaction; outside a transaction, read each time. */
  memo<T>(kind: MemoKind, key: string, read: () => T): T {
    if (!this.db.isTransaction) return read();
    const reads = this.reads[kind];
    if (reads.has(key)) return reads.get(key) as T;
    const value = read();
    reads.set(key, value);
    return value;
  }

  flush(): void {
    for (const counter of ['key', 'budget'] as const) {
      for (const rows of this.pending[counter].values()) {
        for (const row of rows) {
          this.upsert[counter].run(row.id, row.spendClass, row.periodKey, row.spentNano, row.reservedNano);
        }
      }
    }
    this.discard();
  }

  discard(): void {
    this.pending.key.clear();
    this.pending.budget.clear();
    for (const reads of Object.values(this.reads)) reads.clear();
  }

  private find(counter: Counter, id: string, spendClass: SpendCurrency, periodKey: string): PendingSpend | undefined {
    const rows = this.pending[counter].get(id);
    if (!rows) return undefined;
    for (const row of rows) if (row.spendClass === spendClass && row.periodKey === periodKey) return row;
    return undefined;
  }

  private add(
    counter: Counter,
    id: string,
    spendClass: SpendCurrency,
    periodKey: string,
    spentNano: NanoUsd,
    reservedNano: NanoUsd,
  ): void {
    const row = this.find(counter, id, spendClass, periodKey);
    if (row) {
      row.spentNano += spentNano;
      row.reservedNano += reservedNano;
      return;
    }
    const added: PendingSpend = { counter, id, spendClass, periodKey, spentNano, reservedNano };
    const rows = this.pending[counter].get(id);
    if (rows) rows.push(added);
    else this.pending[counter].set(id, [added]);
  }
}
