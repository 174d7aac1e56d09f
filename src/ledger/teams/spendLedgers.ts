/**
 * Test ledgers with a second connection to their database that writes budget_spend rows as the metering hot path
 * writes them, so that budget tests hold whatever the state of the hot path (teamsSpend.test.ts, teams.property.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import postgres from 'postgres';
import { openPostgresLedger } from '../postgres/postgresLedger.ts';
import { openSqliteLedger } from '../sqlite/sqliteLedger.ts';
import type { FakeClock } from '../testing/fakeClock.ts';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from '../testing/harness.ts';
import type { Ledger } from '../types.ts';

export interface SpendLedger {
  ledger: Ledger;
  writeSpend(
    scopeId: string,
    spendClass: 'DIEM' | 'USD',
    periodKey: string,
    spent: bigint,
    reserved: bigint,
  ): Promise<void>;
  close(): Promise<void>;
}

const upsert = `INSERT INTO budget_spend (scope_id, class, period_key, spent_nano, reserved_nano) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (scope_id, class, period_key) DO UPDATE SET spent_nano = excluded.spent_nano,
    reserved_nano = excluded.reserved_nano`;

function openSqlite(clock: FakeClock): SpendLedger {
  const directory = mkdtempSync(join(tmpdir(), 'perdiem-teams-'));
  const path = join(directory, 'ledger.sqlite');
  const ledger = openSqliteLedger({ path, clock: clock.now, backgroundCheckpoints: false });
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA busy_timeout = 5000');
  const statement = raw.prepare(upsert.replaceAll('$', '?'));
  return {
    ledger,
    writeSpend: async (...row) => {
      statement.run(...row);
    },
    close: async () => {
      raw.close();
      await ledger.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function openPostgres(clock: FakeClock): Promise<SpendLedger> {
  const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
  const ledger = await openPostgresLedger({ url: testDatabaseUrl, schema, createSchema: true, clock: clock.now });
  const raw = postgres(testDatabaseUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  return {
    ledger,
    writeSpend: async (...row) => {
      await raw.unsafe(upsert, row.map(String));
    },
    close: async () => {
      await raw.end({ timeout: 5 });
      await ledger.close();
      await dropSchema(schema);
    },
  };
}

export const spendLedgerAdapters = [
  { name: 'sqlite', skip: null as string | null, open: async (clock: FakeClock) => openSqlite(clock) },
  { name: 'postgres', skip: await postgresSkipReason(), open: openPostgres },
];
