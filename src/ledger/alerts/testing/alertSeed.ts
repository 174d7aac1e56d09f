/**
 * Ledgers over one database with a side connection that writes organizations, members, budgets and settled spend
 * straight into the migration-7 tables, so the alert suites do not wait on the teams and metering adapters. The
 * ledgers are peers (replicas, or a restarted process) over the same SQLite file or PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Clock } from '../../../core/epoch.ts';
import { openPostgresLedger } from '../../postgres/postgresLedger.ts';
import { openSqliteDatabase } from '../../sqlite/openDatabase.ts';
import { openSqliteLedger } from '../../sqlite/sqliteLedger.ts';
import type { BudgetPeriod, BudgetScope, OrgRole } from '../../teams/teamsLedger.ts';
import { dropSchema, testDatabaseUrl } from '../../testing/harness.ts';
import type { Ledger } from '../../types.ts';
import type { LimitCurrency, SpendCurrency } from '../../vocabulary.ts';

export interface SeedBudget {
  scopeId: string;
  scope?: BudgetScope;
  orgId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  amountNano: bigint;
  thresholds?: number[];
}

export interface AlertSeed {
  /** An organization (funded by a fresh account) with these members. */
  org(orgId: string, members: Record<string, OrgRole>): Promise<void>;
  budget(budget: SeedBudget): Promise<void>;
  /** Sets what a scope spent (settled) in one class and period. */
  spend(scopeId: string, spendClass: SpendCurrency, periodKey: string, spentNano: bigint): Promise<void>;
}

export interface SeededLedgers {
  ledgers: Ledger[];
  seed: AlertSeed;
  /** Opens one more peer (a restarted process) over the same database. */
  reopen(): Promise<Ledger>;
  close(): Promise<void>;
}

type Exec = (sql: string, params: (string | number | bigint | null)[]) => Promise<void>;

function seedOver(exec: Exec, ledger: () => Ledger): AlertSeed {
  return {
    org: async (orgId, members) => {
      const account = await ledger().createAccount();
      await exec('INSERT INTO organizations (id, name, account_id, created_at_ms) VALUES ($1, $2, $3, 0)', [
        orgId,
        orgId,
        account.id,
      ]);
      for (const [accountId, role] of Object.entries(members)) {
        await exec('INSERT INTO org_members (org_id, account_id, role, added_at_ms) VALUES ($1, $2, $3, 0)', [
          orgId,
          accountId,
          role,
        ]);
      }
    },
    budget: (b) =>
      exec(
        `INSERT INTO budgets (scope_id, scope, org_id, currency, period, amount_nano, thresholds, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
        [
          b.scopeId,
          b.scope ?? 'PROJECT',
          b.orgId,
          b.currency,
          b.period,
          b.amountNano,
          JSON.stringify(b.thresholds ?? [50, 80, 100]),
        ],
      ),
    spend: (scopeId, spendClass, periodKey, spentNano) =>
      exec(
        `INSERT INTO budget_spend (scope_id, class, period_key, spent_nano, reserved_nano) VALUES ($1, $2, $3, $4, 0)
         ON CONFLICT (scope_id, class, period_key) DO UPDATE SET spent_nano = excluded.spent_nano`,
        [scopeId, spendClass, periodKey, spentNano],
      ),
  };
}

export async function openSeeded(adapter: 'sqlite' | 'postgres', clock: Clock, peers = 1): Promise<SeededLedgers> {
  return adapter === 'sqlite' ? openSeededSqlite(clock, peers) : openSeededPostgres(clock, peers);
}

function openSeededSqlite(clock: Clock, peers: number): SeededLedgers {
  const directory = mkdtempSync(join(tmpdir(), 'perdiem-alerts-'));
  const path = join(directory, 'ledger.sqlite');
  const open = () => openSqliteLedger({ path, clock, backgroundCheckpoints: false });
  const ledgers = Array.from({ length: peers }, open);
  const db = openSqliteDatabase(path);
  const exec: Exec = async (sql, params) => {
    db.prepare(sql.replace(/\$\d+/g, '?')).run(...params);
  };
  return {
    ledgers,
    seed: seedOver(exec, () => ledgers[0]!),
    reopen: async () => {
      const ledger = open();
      ledgers.push(ledger);
      return ledger;
    },
    close: async () => {
      for (const ledger of ledgers) await ledger.close();
      db.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function openSeededPostgres(clock: Clock, peers: number): Promise<SeededLedgers> {
  const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
  const open = () => openPostgresLedger({ url: testDatabaseUrl, schema, createSchema: true, clock });
  const ledgers: Ledger[] = [];
  for (let i = 0; i < peers; i++) ledgers.push(await open());
  const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  const exec: Exec = async (text, params) => {
    await sql.unsafe(
      text,
      params.map((p) => (typeof p === 'bigint' ? p.toString() : p)),
    );
  };
  return {
    ledgers,
    seed: seedOver(exec, () => ledgers[0]!),
    reopen: async () => {
      const ledger = await open();
      ledgers.push(ledger);
      return ledger;
    },
    close: async () => {
      for (const ledger of ledgers) await ledger.close();
      await sql.end({ timeout: 5 });
      await dropSchema(schema);
    },
  };
}
