/**
 * The spend counters (key_spend, budget_spend) of the SQLite metering hot path, and what that path reads about keys
 * and budgets, kept in memory for as long as nothing else writes the database.
 *
 * Writes: the operations of one transaction move counters in memory (`addKey`, `addBudget`), summed per counter row
 * and written once per row right before the COMMIT: the concurrent reservations of a group commit that share a key, a
 * project or an organization write its counters once, not once each. Reads inside the transaction add what is pending
 * (`keySpend`, `budgetUsed`), so every check sees every hold before it; the transaction holds the write lock (BEGIN
 * IMMEDIATE), so no other connection reads or writes the counters in between, and a rollback drops what is pending.
 *
 * Reads: the counters' committed values, keys with their limits, and budgets are remembered across hot-path
 * transactions (`memo`, the counters' `committed`), and a flush moves what it writes into the remembered counters. They
 * stay true while only the hot path writes: nothing it writes changes a key, a limit or a budget, and it writes the
 * counters through here. So at the BEGIN of each hot-path transaction, under the write lock, this connection's change
 * count (`total_changes()`, which an admin transaction or any other write of this connection moves) and the file's
 * `data_version` (which a commit of any other connection or process moves) are compared with those left by the last
 * hot-path transaction; any difference, an admin transaction, or a rollback forgets everything. A key revoked or a
 * budget lowered is therefore seen by the next transaction, here or in another process sharing the file. Outside a
 * transaction (spendable, usage reports) every read goes to the database.
 */
import type { StatementSync } from 'node:sqlite';
import type { NanoUsd } from '../../core/money.ts';
import type { CommitHook } from '../sqlite/groupCommit.ts';
import type { SqliteStorage } from '../sqlite/sqliteStorage.ts';
import type { SpendCurrency } from '../vocabulary.ts';

/**
 * Counter rows' changes, up to `rowsPerStatement` rows per statement. Spent only grows (charges); reserved falls on a
 * release, and a CHECK refuses a negative candidate row even when it conflicts, so rows that gain reserved are upserted
 * and rows that lose it (a release: its hold's row exists) are updated; should a release find its row missing, the row
 * is then inserted with nothing reserved (`insertMissing`), as a single upsert of it would be.
 */
const values = (n: number) => Array.from({ length: n }, () => '(?, ?, ?, ?, ?)').join(', ');
const gainSql = (table: Table, n: number) =>
  `INSERT INTO ${table.name} (${table.id}, ${table.cls}, period_key, spent_nano, reserved_nano) VALUES ${values(n)}
    ON CONFLICT DO UPDATE SET spent_nano = spent_nano + excluded.spent_nano,
      reserved_nano = reserved_nano + excluded.reserved_nano`;
const releaseSql = (table: Table, n: number) =>
  `UPDATE ${table.name} AS t SET spent_nano = t.spent_nano + v.column4, reserved_nano = t.reserved_nano + v.column5
    FROM (VALUES ${values(n)}) AS v
    WHERE t.${table.id} = v.column1 AND t.${table.cls} = v.column2 AND t.period_key = v.column3`;
const insertMissingSql = (table: Table) =>
  `INSERT OR IGNORE INTO ${table.name} (${table.id}, ${table.cls}, period_key, spent_nano, reserved_nano)
    VALUES (?, ?, ?, ?, 0)`;
const readSql = (table: Table) =>
  `SELECT spent_nano, reserved_nano FROM ${table.name} WHERE ${table.id} = ? AND ${table.cls} = ? AND period_key = ?`;
/** What tells a hot-path transaction whether anything but the hot path wrote since the last one. */
const writesSeenSql = 'SELECT total_changes() AS changes, data_version AS version FROM pragma_data_version';

interface Table {
  name: string;
  id: string;
  cls: string;
}

const tables: Record<Counter, Table> = {
  key: { name: 'key_spend', id: 'key_id', cls: 'currency' },
  budget: { name: 'budget_spend', id: 'scope_id', cls: 'class' },
};

/** Rows per statement: a statement's parameters stay well under SQLite's limit. */
const rowsPerStatement = 64;
type WriteKind = 'gain' | 'release' | 'insertMissing';
const sqlOf: Record<WriteKind, (table: Table, n: number) => string> = {
  gain: gainSql,
  release: releaseSql,
  insertMissing: insertMissingSql,
};

type Counter = 'key' | 'budget';

interface Spend {
  spentNano: NanoUsd;
  reservedNano: NanoUsd;
}

/** A counter row: its committed value once read (`known`), and what this transaction moved (`moved`). */
interface CounterRow {
  counter: Counter;
  /** The key, or the project or organization. */
  id: string;
  spendClass: SpendCurrency;
  periodKey: string;
  known: boolean;
  spentNano: NanoUsd;
  reservedNano: NanoUsd;
  moved: boolean;
  pendingSpentNano: NanoUsd;
  pendingReservedNano: NanoUsd;
}

/** Reads remembered across hot-path transactions, by kind, each under its own key. */
export type MemoKind = 'key' | 'limits' | 'budgets';

/** Forget everything past this many remembered counter owners (keys, projects, organizations). */
const rememberedMax = 100_000;

export class SqliteSpendBatch implements CommitHook {
  private readonly storage: SqliteStorage;
  /** Prepared statements by counter, kind and rows per statement. */
  private readonly statements = new Map<string, StatementSync>();
  private readonly read: Record<Counter, StatementSync>;
  private readonly writesSeen: StatementSync;
  /** Counter rows by counter and id (a key, project or organization has a few: classes × periods). */
  private readonly rows: Record<Counter, Map<string, CounterRow[]>> = { key: new Map(), budget: new Map() };
  /** The rows this transaction moved. */
  private moved: CounterRow[] = [];
  private readonly reads: Record<MemoKind, Map<string, unknown>> = {
    key: new Map(),
    limits: new Map(),
    budgets: new Map(),
  };
  /** The current transaction runs hot-path operations only: what it reads may be remembered. */
  private hot = false;
  /** `writesSeenSql` at the end of the last hot-path transaction; null: remember nothing from before. */
  private seen: Record<string, unknown> | null = null;

  constructor(storage: SqliteStorage) {
    this.storage = storage;
    this.read = { key: storage.prepareOne(readSql(tables.key)), budget: storage.prepareOne(readSql(tables.budget)) };
    this.writesSeen = storage.prepareOne(writesSeenSql);
    storage.addCommitHook(this);
  }

  /** Moves a key's counter of one class and period. */
  addKey(keyId: string, spendClass: SpendCurrency, periodKey: string, spentNano: NanoUsd, reservedNano: NanoUsd) {
    this.add(this.row('key', keyId, spendClass, periodKey), spentNano, reservedNano);
  }

  /** Moves a project's or an organization's counter of one class and period. */
  addBudget(scopeId: string, spendClass: SpendCurrency, periodKey: string, spentNano: NanoUsd, reservedNano: NanoUsd) {
    this.add(this.row('budget', scopeId, spendClass, periodKey), spentNano, reservedNano);
  }

  /** What a key spent and holds on one class and period: committed, plus what this transaction moved. */
  keySpend(keyId: string, spendClass: SpendCurrency, periodKey: string): Spend {
    return this.current('key', keyId, spendClass, periodKey);
  }

  /** What a project or an organization used (spent and reserved) on one class and period. */
  budgetUsed(scopeId: string, spendClass: SpendCurrency, periodKey: string): NanoUsd {
    const spend = this.current('budget', scopeId, spendClass, periodKey);
    return spend.spentNano + spend.reservedNano;
  }

  /** `read()`, remembered while only the hot path writes; outside a hot-path transaction, read each time. */
  memo<T>(kind: MemoKind, key: string, read: () => T): T {
    if (!this.remembering()) return read();
    const reads = this.reads[kind];
    if (reads.has(key)) return reads.get(key) as T;
    const value = read();
    reads.set(key, value);
    return value;
  }

  began(hot: boolean): void {
    this.hot = hot;
    if (!hot) return;
    const now = this.writesSeen.get()!;
    const seen = this.seen;
    if (seen === null || now.changes !== seen.changes || now.version !== seen.version) this.forget();
    else if (this.rows.key.size + this.rows.budget.size > rememberedMax) this.forget();
  }

  flush(): void {
    for (const counter of ['key', 'budget'] as const) {
      const gains: CounterRow[] = [];
      const releases: CounterRow[] = [];
      for (const row of this.moved) {
        if (row.counter === counter) (row.pendingReservedNano < 0n ? releases : gains).push(row);
      }
      this.write(counter, 'gain', gains);
      this.write(counter, 'release', releases);
    }
    for (const row of this.moved) {
      if (row.known) {
        row.spentNano += row.pendingSpentNano;
        row.reservedNano += row.pendingReservedNano;
      }
      row.pendingSpentNano = 0n;
      row.pendingReservedNano = 0n;
      row.moved = false;
    }
    this.moved = [];
    if (this.hot) this.seen = this.writesSeen.get()!;
    else this.forget();
    this.hot = false;
  }

  discard(): void {
    for (const row of this.moved) row.moved = false;
    this.moved = [];
    this.forget();
    this.hot = false;
  }

  /** In a hot-path transaction (`began` and `flush`/`discard` bracket every transaction of the connection). */
  private remembering(): boolean {
    return this.hot;
  }

  /** Drops every remembered read and counter (nothing may be pending). */
  private forget(): void {
    this.seen = null;
    this.rows.key.clear();
    this.rows.budget.clear();
    for (const reads of Object.values(this.reads)) reads.clear();
  }

  private current(counter: Counter, id: string, spendClass: SpendCurrency, periodKey: string): Spend {
    if (!this.remembering()) return this.committedOf(counter, id, spendClass, periodKey);
    const row = this.row(counter, id, spendClass, periodKey);
    if (!row.known) {
      const committed = this.committedOf(counter, id, spendClass, periodKey);
      row.spentNano = committed.spentNano;
      row.reservedNano = committed.reservedNano;
      row.known = true;
    }
    return {
      spentNano: row.spentNano + row.pendingSpentNano,
      reservedNano: row.reservedNano + row.pendingReservedNano,
    };
  }

  private committedOf(counter: Counter, id: string, spendClass: SpendCurrency, periodKey: string): Spend {
    const found = this.read[counter].get(id, spendClass, periodKey);
    if (!found) return noSpend;
    return { spentNano: found.spent_nano as bigint, reservedNano: found.reserved_nano as bigint };
  }

  /** The remembered row of a counter, made (not yet read) if new. */
  private row(counter: Counter, id: string, spendClass: SpendCurrency, periodKey: string): CounterRow {
    let rows = this.rows[counter].get(id);
    if (rows) {
      for (const row of rows) if (row.spendClass === spendClass && row.periodKey === periodKey) return row;
    } else {
      rows = [];
      this.rows[counter].set(id, rows);
    }
    const row: CounterRow = {
      counter,
      id,
      spendClass,
      periodKey,
      known: false,
      spentNano: 0n,
      reservedNano: 0n,
      moved: false,
      pendingSpentNano: 0n,
      pendingReservedNano: 0n,
    };
    rows.push(row);
    return row;
  }

  private add(row: CounterRow, spentNano: NanoUsd, reservedNano: NanoUsd): void {
    if (!row.moved) {
      row.moved = true;
      this.moved.push(row);
    }
    row.pendingSpentNano += spentNano;
    row.pendingReservedNano += reservedNano;
  }

  /** Writes moved rows of one counter, `rowsPerStatement` at a time. */
  private write(counter: Counter, kind: 'gain' | 'release', rows: CounterRow[]): void {
    for (let start = 0; start < rows.length; start += rowsPerStatement) {
      const chunk = rows.slice(start, start + rowsPerStatement);
      const params: (string | bigint)[] = [];
      for (const row of chunk) {
        params.push(row.id, row.spendClass, row.periodKey, row.pendingSpentNano, row.pendingReservedNano);
      }
      const changes = Number(this.statement(counter, kind, chunk.length).run(...params).changes);
      if (kind === 'release' && changes < chunk.length) {
        const insert = this.statement(counter, 'insertMissing', 1);
        for (const row of chunk) insert.run(row.id, row.spendClass, row.periodKey, row.pendingSpentNano);
      }
    }
  }

  private statement(counter: Counter, kind: WriteKind, n: number): StatementSync {
    const name = `${counter} ${kind} ${n}`;
    let statement = this.statements.get(name);
    if (!statement) {
      statement = this.storage.prepareOne(sqlOf[kind](tables[counter], n));
      this.statements.set(name, statement);
    }
    return statement;
  }
}

const noSpend: Spend = Object.freeze({ spentNano: 0n, reservedNano: 0n });
