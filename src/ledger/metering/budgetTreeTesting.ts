/**
 * Test helper for the budget tree on either adapter: a ledger opened beside a direct connection to its database, and
 * organizations, projects, project keys and budgets written straight into the migration-7 tables, so that the
 * metering suites do not depend on the teams adapters. Tests only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Clock } from '../../core/epoch.ts';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { openPostgresLedger } from '../postgres/postgresLedger.ts';
import { openSqliteDatabase } from '../sqlite/openDatabase.ts';
import { openSqliteLedger } from '../sqlite/sqliteLedger.ts';
import { type LedgerHarness, openTestPostgresLedger, testDatabaseUrl } from '../testing/harness.ts';
import type { BudgetPeriod, KeyLimit, Ledger, LimitCurrency } from '../types.ts';
import { periodKeyOf } from './meteringRules.ts';

export type DbRow = Record<string, unknown>;

/** SQL with `$1`-style parameters, run on the ledger's database beside the ledger. */
export interface TreeDb {
  run(sql: string, params?: unknown[]): Promise<DbRow[]>;
  close(): Promise<void>;
}

export interface TreeLedgers {
  /** One ledger per replica over the same database (one for SQLite unless more are asked for). */
  ledgers: Ledger[];
  db: TreeDb;
  close(): Promise<void>;
}

/** Opens `replicas` ledgers (instances) over one fresh database, and a direct connection to it. */
export async function openTreeLedgers(harness: LedgerHarness, clock: Clock, replicas = 1): Promise<TreeLedgers> {
  if (harness.name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'perdiem-tree-'));
    const path = join(dir, 'ledger.db');
    const ledgers = Array.from({ length: replicas }, () =>
      openSqliteLedger({ path, clock, instanceId: randomUUID(), backgroundCheckpoints: false }),
    );
    const raw = openSqliteDatabase(path);
    raw.exec('PRAGMA foreign_keys = ON');
    const db: TreeDb = {
      run: async (sql, params = []) => {
        const statement = raw.prepare(sql.replace(/\$(\d+)/g, '?$1'));
        statement.setReadBigInts(true);
        return statement.all(...(params as never[])) as DbRow[];
      },
      close: async () => raw.close(),
    };
    return {
      ledgers,
      db,
      close: async () => {
        raw.close();
        for (const ledger of ledgers) await ledger.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
  const first = await openTestPostgresLedger({ schema, clock, poolMax: 8 });
  const others: Ledger[] = [];
  for (let i = 1; i < replicas; i++) {
    others.push(await openPostgresLedger({ url: testDatabaseUrl, schema, clock, poolMax: 8 }));
  }
  const sql = postgres(testDatabaseUrl, {
    max: 2,
    types: { bigint: postgres.BigInt },
    connection: { search_path: schema },
    onnotice: () => {},
  });
  const db: TreeDb = {
    run: async (text, params = []) => [...(await sql.unsafe(text, params as never[]))] as DbRow[],
    close: () => sql.end({ timeout: 5 }),
  };
  return {
    ledgers: [first, ...others],
    db,
    close: async () => {
      await sql.end({ timeout: 5 });
      for (const ledger of others) await ledger.close();
      await first.close();
    },
  };
}

/** An organization funded by `accountId` (its funding account). */
export async function insertOrg(db: TreeDb, accountId: string): Promise<string> {
  const id = `org_${randomBytes(6).toString('hex')}`;
  await db.run('INSERT INTO organizations (id, name, account_id, created_at_ms) VALUES ($1, $2, $3, 0)', [
    id,
    id,
    accountId,
  ]);
  return id;
}

export async function insertProject(db: TreeDb, orgId: string): Promise<string> {
  const id = `prj_${randomBytes(6).toString('hex')}`;
  await db.run('INSERT INTO projects (id, org_id, name, created_at_ms) VALUES ($1, $2, $3, 0)', [id, orgId, id]);
  return id;
}

/** A key of `accountId` in `projectId`, with optional limits. */
export async function insertProjectKey(
  ledger: Ledger,
  db: TreeDb,
  accountId: string,
  projectId: string,
  limits: KeyLimit[] = [],
): Promise<string> {
  const { key } = await ledger.createKey({ accountId, kind: 'INFERENCE', name: 'project key', limits });
  await db.run('UPDATE api_keys SET project_id = $1 WHERE id = $2', [projectId, key.id]);
  return key.id;
}

export interface BudgetRow {
  scopeId: string;
  scope: 'PROJECT' | 'ORGANIZATION';
  orgId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  /** null removes it. */
  amountNano: bigint | null;
}

/** Sets (or, with a null amount, removes) a budget. */
export async function putBudget(db: TreeDb, b: BudgetRow): Promise<void> {
  if (b.amountNano === null) {
    await db.run('DELETE FROM budgets WHERE scope_id = $1 AND currency = $2 AND period = $3', [
      b.scopeId,
      b.currency,
      b.period,
    ]);
    return;
  }
  await db.run(
    `INSERT INTO budgets (scope_id, scope, org_id, currency, period, amount_nano, thresholds, updated_at_ms)
      VALUES ($1, $2, $3, $4, $5, $6, '[]', 0)
      ON CONFLICT (scope_id, currency, period) DO UPDATE SET amount_nano = excluded.amount_nano`,
    [b.scopeId, b.scope, b.orgId, b.currency, b.period, b.amountNano],
  );
}

/** Every budget_spend row of a scope, as "CLASS PERIODKEY" → [spent, reserved]. */
export async function spendOf(db: TreeDb, scopeId: string): Promise<Record<string, [bigint, bigint]>> {
  const rows = await db.run(
    'SELECT class, period_key, spent_nano, reserved_nano FROM budget_spend WHERE scope_id = $1',
    [scopeId],
  );
  return Object.fromEntries(
    rows.map((r) => [
      `${r.class} ${r.period_key}`,
      [BigInt(r.spent_nano as bigint), BigInt(r.reserved_nano as bigint)],
    ]),
  );
}

/** The current period keys of budgets at `now`. */
export function budgetPeriodKeysAt(now: number): { EPOCH: string; MONTH: string } {
  const epoch = epochAt(now);
  const month = monthAt(now);
  return { EPOCH: periodKeyOf('EPOCH', epoch, month), MONTH: periodKeyOf('MONTH', epoch, month) };
}
