/**
 * Migrations applied to a database written by an earlier version: the state it holds must carry over exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { line } from '../conformance.ts';
import { fakeClock } from '../testing/fakeClock.ts';
import { sqliteMigrations } from './migrations.ts';
import { openSqliteLedger } from './sqliteLedger.ts';

const start = Date.UTC(2025, 0, 15, 12);
const usd = (n: number): bigint => BigInt(n) * 1_000_000_000n;

let directory: string | null = null;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = null;
});

/** A database as version 2 left it: every keyed reservation counted, limits or not. */
function versionTwoDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
  );
  for (const migration of sqliteMigrations.filter((m) => m.version <= 2)) {
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
  }
  const epoch = epochAt(start);
  const month = monthAt(start);
  db.exec(`INSERT INTO accounts VALUES ('a', NULL, 0)`);
  db.exec(`INSERT INTO balances VALUES ('a', 'CREDITS', 0, 0), ('a', 'USD', ${usd(90)}, ${usd(10)})`);
  for (const key of ['free', 'limited']) {
    db.exec(`INSERT INTO api_keys VALUES ('${key}', 'a', 'INFERENCE', '${key}', 'hash-${key}', 'vk_', 0, NULL, NULL,
      NULL)`);
  }
  db.exec(`INSERT INTO key_limits VALUES ('limited', 'USD', 'MONTH', ${usd(20)})`);
  // Each key holds one live reservation of $5, counted in all three of its period counters.
  for (const [id, key] of [
    [1, 'free'],
    [2, 'limited'],
  ] as const) {
    db.exec(`INSERT INTO reservations (id, account_id, key_id, idempotency_key, model, source, epoch, month,
      amount_nano, status, created_at_ms, expires_at_ms) VALUES (${id}, 'a', '${key}', 'r${id}', 'm', 'USD', ${epoch},
      '${month}', ${usd(5)}, 'RESERVED', ${start}, ${start + 600_000})`);
    for (const period of [`EPOCH:${epoch}`, `MONTH:${month}`, 'LIFETIME']) {
      db.exec(`INSERT INTO key_spend VALUES ('${key}', 'USD', '${period}', 0, ${usd(5)})`);
    }
  }
  db.close();
}

describe('SQLite migration 3: key spend counted only for keys with limits', () => {
  it('drops the counters of keys without limits and keeps those of keys with limits', async () => {
    directory = mkdtempSync(join(tmpdir(), 'perdiem-migrate-'));
    const path = join(directory, 'ledger.sqlite');
    versionTwoDatabase(path);
    const clock = fakeClock(start);
    const ledger = openSqliteLedger({ path, clock: clock.now, backgroundCheckpoints: false });
    try {
      const spendRows = (key: string) => {
        const reader = new DatabaseSync(path, { readOnly: true });
        const row = reader.prepare('SELECT count(*) AS n FROM key_spend WHERE key_id = ?').get(key);
        reader.close();
        return row?.n;
      };
      expect(spendRows('free')).toBe(0);
      expect(spendRows('limited')).toBe(3); // USD per period (migration 4's TOTAL counters went in 11)
      expect((await ledger.spendable({ accountId: 'a', keyId: 'limited' })).maxNano).toBe(usd(15));
      // Both holds settle: the free key's leaves no counter behind, the limited key's moves to spent.
      await ledger.settle({ reservationId: '1', lines: [line(usd(4))], latencyMs: null });
      await ledger.settle({ reservationId: '2', lines: [line(usd(3))], latencyMs: null });
      expect(spendRows('free')).toBe(0);
      expect((await ledger.spendable({ accountId: 'a', keyId: 'limited' })).maxNano).toBe(usd(17));
      const balance = await ledger.balance('a');
      expect(balance.usd).toEqual({ availableNano: usd(93), reservedNano: 0n });
    } finally {
      await ledger.close();
    }
  });
});

/**
 * A database as version 3 left it: reservations without request ids, digests or owners, keys without last6 or rate
 * limits, and counters per class only. Key 'limited' (a USD limit) holds $5 of USD and has spent $2 of DIEM; key
 * 'free' holds $5 of USD, uncounted.
 */
function versionThreeDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
  );
  for (const migration of sqliteMigrations.filter((m) => m.version <= 3)) {
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
  }
  const epoch = epochAt(start);
  const month = monthAt(start);
  db.exec(`INSERT INTO accounts VALUES ('a', NULL, 0)`);
  db.exec(`INSERT INTO balances VALUES ('a', 'CREDITS', 0, 0), ('a', 'USD', ${usd(90)}, ${usd(10)})`);
  db.exec(`INSERT INTO diem_allowances VALUES ('a', ${epoch}, ${usd(10)}, ${usd(2)}, 0)`);
  for (const key of ['free', 'limited']) {
    db.exec(`INSERT INTO api_keys VALUES ('${key}', 'a', 'INFERENCE', '${key}', 'hash-${key}', 'pd_abc', 0, NULL, NULL,
      NULL)`);
  }
  db.exec(`INSERT INTO key_limits VALUES ('limited', 'USD', 'MONTH', ${usd(20)})`);
  const reservation = (id: number, key: string, source: string, status: string, charged: bigint | null) =>
    db.exec(`INSERT INTO reservations (id, account_id, key_id, idempotency_key, model, source, epoch, month,
      amount_nano, status, charged_nano, loss_nano, created_at_ms, expires_at_ms, counted) VALUES (${id}, 'a', '${key}',
      'r${id}', 'm', '${source}', ${epoch}, '${month}', ${usd(5)}, '${status}', ${charged ?? 'NULL'},
      ${charged === null ? 'NULL' : 0}, ${start}, ${start + 600_000}, ${key === 'limited' ? 1 : 0})`);
  reservation(1, 'free', 'USD', 'RESERVED', null);
  reservation(2, 'limited', 'USD', 'RESERVED', null);
  reservation(3, 'limited', 'DIEM', 'SETTLED', usd(2));
  for (const period of [`EPOCH:${epoch}`, `MONTH:${month}`, 'LIFETIME']) {
    db.exec(`INSERT INTO key_spend VALUES ('limited', 'USD', '${period}', 0, ${usd(5)})`);
    db.exec(`INSERT INTO key_spend VALUES ('limited', 'DIEM', '${period}', ${usd(2)}, 0)`);
  }
  db.close();
}

describe('SQLite migration 4: owners, request ids, TOTAL limits, key rate limits', () => {
  it('reads old rows back, counts TOTAL from the old counters, and voids holds of the processes before it', async () => {
    directory = mkdtempSync(join(tmpdir(), 'perdiem-migrate-'));
    const path = join(directory, 'ledger.sqlite');
    versionThreeDatabase(path);
    const clock = fakeClock(start);
    const ledger = openSqliteLedger({ path, clock: clock.now, backgroundCheckpoints: false, instanceId: 'new' });
    try {
      expect(await ledger.getReservation('2')).toMatchObject({
        idempotencyKey: 'r2',
        requestId: 'r2',
        requestHash: null,
        owner: null,
        status: 'RESERVED',
      });
      expect(await ledger.getKey('limited')).toMatchObject({
        secretLast6: null,
        rateLimits: null,
        limits: [{ currency: 'USD', period: 'MONTH', amountNano: usd(20) }],
      });
      // A TOTAL limit beside the old one (no rebuild: the key had limits) sees the DIEM spend and the USD hold.
      await ledger.updateKey('limited', {
        limits: [
          { currency: 'USD', period: 'MONTH', amountNano: usd(20) },
          { currency: 'TOTAL', period: 'MONTH', amountNano: usd(8) },
        ],
      });
      const total = async () => (await ledger.keyLimitUsage('limited')).find((l) => l.currency === 'TOTAL');
      expect(await total()).toMatchObject({ spentNano: usd(2), reservedNano: usd(5), remainingNano: usd(1) });
      expect((await ledger.spendable({ accountId: 'a', keyId: 'limited' })).maxNano).toBe(usd(1));
      // The reservations of the versions before have no owner: they belong to no live instance.
      expect(await ledger.voidHoldsOfOtherInstances()).toBe(2);
      expect((await ledger.balance('a')).usd).toEqual({ availableNano: usd(100), reservedNano: 0n });
      expect(await total()).toMatchObject({ spentNano: usd(2), reservedNano: 0n, remainingNano: usd(6) });
      const { reservation } = await ledger.reserve({
        accountId: 'a',
        keyId: 'limited',
        idempotencyKey: 'after',
        model: 'm',
        amountNano: usd(6),
      });
      expect(reservation).toMatchObject({ owner: 'new', source: 'DIEM', requestId: 'after' });
      expect(await total()).toMatchObject({ reservedNano: usd(6), remainingNano: 0n });
      // The old settled reservation replays without a stored answer.
      const replay = await ledger.reserve({
        accountId: 'a',
        keyId: 'limited',
        idempotencyKey: 'r3',
        model: 'm',
        amountNano: usd(5),
      });
      expect(replay).toMatchObject({ replayed: true, response: null, reservation: { status: 'SETTLED' } });
    } finally {
      await ledger.close();
    }
  });
});

/**
 * A database as version 4 left it: account 'granted' (no wallet) with a $10 allowance set directly, $2 of it spent;
 * account 'fed' whose $100 allowance the chain feed wrote for its wallet.
 */
function versionFourDatabase(path: string, wallet: string): void {
  const db = new DatabaseSync(path);
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
  );
  for (const migration of sqliteMigrations.filter((m) => m.version <= 4)) {
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
  }
  const epoch = epochAt(start);
  for (const account of ['granted', 'fed']) {
    db.exec(`INSERT INTO accounts VALUES ('${account}', NULL, 0)`);
    db.exec(`INSERT INTO balances VALUES ('${account}', 'CREDITS', 0, 0), ('${account}', 'USD', 0, 0)`);
  }
  db.exec(`INSERT INTO wallets VALUES ('${wallet}', 'fed', 0)`);
  db.exec(`INSERT INTO diem_allowances VALUES ('granted', ${epoch}, ${usd(10)}, ${usd(2)}, 0)`);
  db.exec(`INSERT INTO diem_allowances VALUES ('fed', ${epoch}, ${usd(100)}, 0, 0)`);
  db.close();
}

describe('SQLite migration 5: allowance per wallet, summed per account', () => {
  it("keeps a directly set allowance as the direct part, and lets the feed's next write replace a fed one", async () => {
    directory = mkdtempSync(join(tmpdir(), 'perdiem-migrate-'));
    const path = join(directory, 'ledger.sqlite');
    const [fedWallet, laterWallet] = [`0x${'a'.repeat(40)}`, `0x${'b'.repeat(40)}`];
    versionFourDatabase(path, fedWallet);
    const ledger = openSqliteLedger({ path, clock: fakeClock(start).now, backgroundCheckpoints: false });
    try {
      const epoch = epochAt(start);
      const diem = async (account: string) => (await ledger.balance(account)).diem;
      expect(await diem('granted')).toMatchObject({ allowanceNano: usd(10), spentNano: usd(2) });
      expect(await diem('fed')).toMatchObject({ allowanceNano: usd(100) });
      // The feed writes the fed wallet's $100 again: the account has $100, not $200.
      await ledger.setWalletAllowance(fedWallet, epoch, usd(100));
      expect(await diem('fed')).toMatchObject({ allowanceNano: usd(100) });
      // The granted account's $10 is its direct part: a wallet linked later adds to it.
      await ledger.linkWallet('granted', laterWallet);
      await ledger.setWalletAllowance(laterWallet, epoch, usd(5));
      expect(await diem('granted')).toMatchObject({ allowanceNano: usd(15), spentNano: usd(2) });
      await ledger.setDiemAllowance('granted', epoch, usd(1));
      expect(await diem('granted')).toMatchObject({ allowanceNano: usd(6) });
    } finally {
      await ledger.close();
    }
  });
});

/**
 * A database as version 7 left it: key 'limited' (a TOTAL limit) has spent $2 of DIEM and holds $5 of USD, in its
 * class counters and in the TOTAL counters (their sum) of each period.
 */
function versionSevenDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
  );
  for (const migration of sqliteMigrations.filter((m) => m.version <= 7)) {
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
  }
  const epoch = epochAt(start);
  const month = monthAt(start);
  db.exec(`INSERT INTO accounts VALUES ('a', NULL, 0)`);
  db.exec(`INSERT INTO balances VALUES ('a', 'CREDITS', 0, 0), ('a', 'USD', ${usd(90)}, ${usd(5)})`);
  db.exec(`INSERT INTO diem_allowances VALUES ('a', ${epoch}, ${usd(10)}, ${usd(2)}, 0, ${usd(10)})`);
  db.exec(`INSERT INTO api_keys (id, account_id, kind, name, secret_hash, secret_prefix, created_at_ms)
    VALUES ('limited', 'a', 'INFERENCE', 'limited', 'hash-limited', 'pd_abc', 0)`);
  db.exec(`INSERT INTO key_limits VALUES ('limited', 'TOTAL', 'MONTH', ${usd(10)})`);
  db.exec(`INSERT INTO reservations (id, account_id, key_id, idempotency_key, request_id, owner, model, source, epoch,
    month, amount_nano, status, created_at_ms, expires_at_ms, counted) VALUES (1, 'a', 'limited', 'r1', 'r1', 'old',
    'm', 'USD', ${epoch}, '${month}', ${usd(5)}, 'RESERVED', ${start}, ${start + 600_000}, 1)`);
  for (const period of [`EPOCH:${epoch}`, `MONTH:${month}`, 'LIFETIME']) {
    db.exec(`INSERT INTO key_spend VALUES ('limited', 'USD', '${period}', 0, ${usd(5)})`);
    db.exec(`INSERT INTO key_spend VALUES ('limited', 'DIEM', '${period}', ${usd(2)}, 0)`);
    db.exec(`INSERT INTO key_spend VALUES ('limited', 'TOTAL', '${period}', ${usd(2)}, ${usd(5)})`);
  }
  db.close();
}

describe('SQLite migration 11: key spend by class only', () => {
  it('drops the TOTAL counters; a TOTAL limit reads the sum of the class counters, before and after a settle', async () => {
    directory = mkdtempSync(join(tmpdir(), 'perdiem-migrate-'));
    const path = join(directory, 'ledger.sqlite');
    versionSevenDatabase(path);
    const ledger = openSqliteLedger({ path, clock: fakeClock(start).now, backgroundCheckpoints: false });
    try {
      const reader = new DatabaseSync(path, { readOnly: true });
      const currencies = reader.prepare('SELECT DISTINCT currency FROM key_spend ORDER BY currency').all();
      reader.close();
      expect(currencies.map((r) => r.currency)).toEqual(['DIEM', 'USD']);
      const total = async () => (await ledger.keyLimitUsage('limited'))[0];
      expect(await total()).toMatchObject({ spentNano: usd(2), reservedNano: usd(5), remainingNano: usd(3) });
      expect((await ledger.spendable({ accountId: 'a', keyId: 'limited' })).maxNano).toBe(usd(3));
      await ledger.settle({ reservationId: '1', lines: [line(usd(4))], latencyMs: null });
      expect(await total()).toMatchObject({ spentNano: usd(6), reservedNano: 0n, remainingNano: usd(4) });
      const { reservation } = await ledger.reserve({
        accountId: 'a',
        keyId: 'limited',
        idempotencyKey: 'after',
        model: 'm',
        amountNano: usd(4),
      });
      expect(reservation.source).toBe('DIEM');
      expect(await total()).toMatchObject({ spentNano: usd(6), reservedNano: usd(4), remainingNano: 0n });
      await expect(
        ledger.reserve({ accountId: 'a', keyId: 'limited', idempotencyKey: 'over', model: 'm', amountNano: 1n }),
      ).rejects.toMatchObject({ code: 'key_limit_exceeded' });
    } finally {
      await ledger.close();
    }
  });
});
