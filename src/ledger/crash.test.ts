/**
 * Crash safety: a process running a burst of concurrent reservations is killed with SIGKILL mid-way. After a
 * restart and recovery, every charge the process saw settle is present with its usage, no funds remain reserved,
 * every nano-USD is accounted for (funded = available + charged), and the journal balances. Recovery is what each
 * deployment does: SQLite (one writer) voids the dead process's holds at start; PostgreSQL (replicas) lets them
 * expire after their TTL.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { expectBalancedJournal } from './conformance.ts';
import { openPostgresLedger } from './postgres/postgresLedger.ts';
import { openSqliteLedger } from './sqlite/sqliteLedger.ts';
import { allUsage } from './testing/allUsage.ts';
import { dropSchema, postgresSkipReason, testDatabaseUrl } from './testing/harness.ts';
import type { Ledger } from './types.ts';

const ttlMs = 30_000;
const funded = 10n ** 12n;
const settlesBeforeKill = 300;
const burstScript = new URL('./testing/crashBurst.ts', import.meta.url).pathname;

interface Target {
  open(clock: () => number): Promise<Ledger>;
  /** The restarted process's clock, and how it releases the holds the killed one left; returns how many. */
  restartClock: () => number;
  recover(ledger: Ledger): Promise<number>;
  childConfig: Record<string, unknown>;
  /** Resolves once nothing the killed process started can still commit. */
  settledDown(): Promise<void>;
}

async function crashAndRecover(target: Target): Promise<void> {
  const setup = await target.open(Date.now);
  const account = await setup.createAccount();
  await setup.addFunds({ accountId: account.id, source: 'USD', amountNano: funded, reference: 'crash-funding' });
  const { key } = await setup.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'burst' });
  await setup.close();

  const settled = await runAndKill({
    ...target.childConfig,
    accountId: account.id,
    keyId: key.id,
    concurrency: 16,
    ttlMs,
  });
  expect(settled.size).toBeGreaterThanOrEqual(settlesBeforeKill);
  await target.settledDown();

  const ledger = await target.open(target.restartClock);
  try {
    const before = await ledger.balance(account.id);
    expect(before.usd.reservedNano).toBeGreaterThan(0n); // the killed process left holds behind
    expect(await target.recover(ledger)).toBeGreaterThan(0);
    const usage = await allUsage(ledger, account.id);
    for (const [id, charged] of settled) {
      const reservation = await ledger.getReservation(id);
      expect(reservation).toMatchObject({ status: 'SETTLED', chargedNano: charged });
      expect(usage.filter((u) => u.reservationId === id).reduce((a, u) => a + u.amountNano, 0n)).toBe(charged);
    }
    const after = await ledger.balance(account.id);
    expect(after.usd.reservedNano).toBe(0n);
    const chargedTotal = usage.reduce((a, u) => a + u.amountNano, 0n);
    expect(after.usd.availableNano + chargedTotal).toBe(funded);
    const journal = await ledger.journal();
    expectBalancedJournal(journal);
    const debits = journal
      .filter((e) => e.kind === 'CHARGE' && e.side === 'DEBIT')
      .reduce((a, e) => a + e.amountNano, 0n);
    expect(debits).toBe(chargedTotal);
  } finally {
    await ledger.close();
  }
}

/** Starts the burst, SIGKILLs it once enough settles are reported, and returns what it reported. */
function runAndKill(config: Record<string, unknown>): Promise<Map<string, bigint>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [burstScript, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const settled = new Map<string, bigint>();
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    createInterface({ input: child.stdout }).on('line', (text) => {
      const [tag, id, charged] = text.split(' ');
      if (tag !== 'S') return;
      settled.set(id!, BigInt(charged!));
      if (settled.size === settlesBeforeKill) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(settled);
      else reject(new Error(`burst exited on its own (code ${code}): ${stderr}`));
    });
  });
}

async function backendsGone(applicationName: string): Promise<void> {
  const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const [row] =
        await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${applicationName}`;
      if (row!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the killed process still has server backends after 10 s');
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe('crash: sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perdiem-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every settled charge and strands no funds after SIGKILL and a restart that voids its holds', async () => {
    const path = join(dir, 'ledger.db');
    await crashAndRecover({
      open: async (clock) => openSqliteLedger({ path, clock }),
      // At once: the single writer's holds are the dead process's, whatever their TTL.
      restartClock: Date.now,
      recover: (ledger) => ledger.voidHoldsOfOtherInstances(),
      childConfig: { adapter: 'sqlite', path },
      settledDown: async () => {}, // a killed SQLite writer's transaction dies with it
    });
  });
});

const pgSkip = await postgresSkipReason();
describe.skipIf(pgSkip !== null)('crash: postgres', () => {
  it('keeps every settled charge and strands no funds after SIGKILL, restart and expiry', async () => {
    const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
    const applicationName = `perdiem-crash-${schema}`;
    try {
      await crashAndRecover({
        open: (clock) => openPostgresLedger({ url: testDatabaseUrl, schema, createSchema: true, clock }),
        restartClock: () => Date.now() + ttlMs + 1_000,
        recover: (ledger) => ledger.expireReservations(),
        childConfig: { adapter: 'postgres', url: testDatabaseUrl, schema, applicationName },
        // The server finishes (or aborts) statements a dead client had in flight on its own time.
        settledDown: () => backendsGone(applicationName),
      });
    } finally {
      await dropSchema(schema);
    }
  });
});
