/**
 * The embedded ledger: one SQLite file through `node:sqlite`, WAL, prepared statements. Every write runs in a
 * `BEGIN IMMEDIATE` transaction, so writers (threads or processes sharing the file) are serialised by SQLite and
 * each operation reads and writes a consistent state. `synchronous=NORMAL` in WAL mode survives a process crash
 * (SIGKILL) without losing a committed transaction; only an OS crash or power loss may drop the last commits.
 */
import { randomUUID } from 'node:crypto';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { type Clock, epochAt, epochSecondsDefault, monthAt, nextEpochBegins } from '../../core/epoch.ts';
import { AuthenticationError, ConflictError, NotFoundError, PerdiemError } from '../../core/errors.ts';
import type { NanoUsd } from '../../core/money.ts';
import { checkKeyUsable, normaliseWallet, validateKeyInput, walletNotLinked } from '../accounts/accountRules.ts';
import { displayPrefixOf, generateSecret, hashSecret, secretLast6Of } from '../apiKeySecret.ts';
import { validateAllowance, validateSnapshotBlock } from '../funding/fundingRules.ts';
import { ledgerLimits } from '../limits.ts';
import {
  headroomsOf,
  keyHeadroomOf,
  keyLimitUsageOf,
  noKeyHeadroom,
  reserveRefusal,
} from '../metering/keyLimitRules.ts';
import {
  allocateCharge,
  chooseSource,
  fundingAccountOf,
  ledgerAccountOf,
  operatorLoss,
  operatorRevenue,
  periodKeyOf,
  periodKeysOf,
  replayOf,
  validateHoldTtl,
  validateReserveInput,
  validateSettleInput,
} from '../metering/meteringRules.ts';
import { decodeCursor, encodeCursor, pageSizeOf } from '../reporting/reportingRules.ts';
import { nullableNumber, type Row, toApiKey, toReservation, toUsage } from '../rows.ts';
import {
  type Account,
  type AnalyticsRow,
  type ApiKey,
  type Balance,
  type Funding,
  type FundingSource,
  type JournalEntry,
  type KeyLimit,
  type KeyLimitUsage,
  type KeyRateLimits,
  type Ledger,
  limitCurrencyOf,
  type Reservation,
  type UsageLineInput,
  type WalletLink,
} from '../types.ts';
import { sqliteMigrations } from './migrations.ts';

export interface SqliteLedgerOptions {
  /** A file path, or ":memory:" for tests. */
  path: string;
  clock: Clock;
  epochSeconds?: number;
  /** NORMAL (default) survives process crashes; FULL also survives power loss, at a cost per commit. */
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
  /** Checkpoint the WAL on a worker thread (default) instead of on the request path. */
  backgroundCheckpoints?: boolean;
  /** Background checkpoints: how often (default 200 ms). */
  checkpointIntervalMs?: number;
  /**
   * Background checkpoints: above this many WAL frames (default 4,096, 16 MiB of 4 KiB pages) the ledger holds its
   * group commits for one short checkpoint so that the WAL restarts (see checkpointWorker.ts). The WAL file is then
   * written again from its start, so it stays at its high-water mark: this many frames plus what the ledger writes
   * in one checkpoint interval. It is not truncated: truncating a large file stalled the committing thread 20 ms.
   */
  walFramesMax?: number;
  /** This ledger's `instanceId` (owner of the reservations it makes); default a random id. */
  instanceId?: string;
}

const checkpointIntervalMs = 200;
const walFramesMax = 4096;
/** The longest the ledger holds its commits for a checkpoint to catch up, should the checkpoint thread not answer. */
const commitHoldMsMax = 1_000;
const cacheSizeKiB = 32 * 1024;

interface PendingOp {
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const reservationColumns =
  'id, account_id, key_id, idempotency_key, request_id, request_hash, owner, model, source, epoch, month, amount_nano, status, charged_nano, loss_nano, created_at_ms, expires_at_ms, finished_at_ms';

const statements = {
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  insertAccount: 'INSERT INTO accounts (id, name, created_at_ms) VALUES (?, ?, ?)',
  insertBalance: 'INSERT INTO balances (account_id, source, available_nano, reserved_nano) VALUES (?, ?, 0, 0)',
  account: 'SELECT id, name, created_at_ms FROM accounts WHERE id = ?',
  insertWallet: 'INSERT INTO wallets (address, account_id, linked_at_ms) VALUES (?, ?, ?)',
  wallet: 'SELECT account_id FROM wallets WHERE address = ?',
  walletsOfAccount: `SELECT address, account_id, linked_at_ms FROM wallets WHERE account_id = ?
    ORDER BY linked_at_ms, address`,
  snapshotBlock: 'SELECT block_number FROM allowance_snapshots WHERE epoch = ?',
  claimSnapshotBlock: `INSERT INTO allowance_snapshots (epoch, block_number, claimed_at_ms) VALUES (?, ?, ?)
    ON CONFLICT (epoch) DO NOTHING`,
  insertKey: `INSERT INTO api_keys (id, account_id, kind, name, secret_hash, secret_prefix, secret_last6, created_at_ms,
    expires_at_ms, revoked_at_ms, allowed_models, rpm_limit, tpm_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
  key: 'SELECT * FROM api_keys WHERE id = ?',
  keyByHash: 'SELECT * FROM api_keys WHERE secret_hash = ?',
  keysOfAccount: 'SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at_ms, id',
  updateKey: `UPDATE api_keys SET name = ?, expires_at_ms = ?, allowed_models = ?, rpm_limit = ?, tpm_limit = ?
    WHERE id = ?`,
  revokeKey: 'UPDATE api_keys SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE id = ?',
  limits: 'SELECT currency, period, amount_nano FROM key_limits WHERE key_id = ? ORDER BY currency, period',
  hasLimits: 'SELECT 1 FROM key_limits WHERE key_id = ? LIMIT 1',
  deleteLimits: 'DELETE FROM key_limits WHERE key_id = ?',
  insertLimit: 'INSERT INTO key_limits (key_id, currency, period, amount_nano) VALUES (?, ?, ?, ?)',
  keySpend: 'SELECT spent_nano, reserved_nano FROM key_spend WHERE key_id = ? AND currency = ? AND period_key = ?',
  // A counted reservation moves the counters of its source's class (DIEM or USD) and the TOTAL counters, in each
  // period: a limit of any currency, added later, then finds the key's spend already counted.
  reserveKeySpend: `INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
    VALUES (?1, ?2, ?3, 0, ?6), (?1, ?2, ?4, 0, ?6), (?1, ?2, ?5, 0, ?6),
      (?1, 'TOTAL', ?3, 0, ?6), (?1, 'TOTAL', ?4, 0, ?6), (?1, 'TOTAL', ?5, 0, ?6)
    ON CONFLICT DO UPDATE SET reserved_nano = reserved_nano + excluded.reserved_nano`,
  releaseKeySpend: `UPDATE key_spend SET reserved_nano = reserved_nano - ?1, spent_nano = spent_nano + ?2
    WHERE key_id = ?3 AND currency IN (?4, 'TOTAL') AND period_key IN (?5, ?6, ?7)`,
  deleteKeySpend: 'DELETE FROM key_spend WHERE key_id = ?',
  // The key's live reservations are counted in its counters exactly while it has limits.
  markCounted: `UPDATE reservations SET counted = ?1
    WHERE account_id = ?2 AND released = 0 AND key_id = ?3 AND status = 'RESERVED'`,
  // A key's counters rebuilt from its reservations: what settled (in the current periods) and what is held (in the
  // periods it was reserved in, which its settle will move). Read through the idempotency index, which holds every
  // settled and live reservation of the account.
  backfillKeySpend: `WITH byClass AS (
      SELECT CASE source WHEN 'DIEM' THEN 'DIEM' ELSE 'USD' END AS currency, epoch, month, status,
        CASE status WHEN 'SETTLED' THEN charged_nano ELSE 0 END AS spent,
        CASE status WHEN 'RESERVED' THEN amount_nano ELSE 0 END AS held
      FROM reservations WHERE account_id = ?2 AND released = 0 AND key_id = ?1),
    r AS (SELECT * FROM byClass UNION ALL SELECT 'TOTAL', epoch, month, status, spent, held FROM byClass)
    INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
    SELECT ?1, currency, period_key, sum(spent), sum(held) FROM (
      SELECT currency, 'EPOCH:' || epoch AS period_key, spent, held FROM r WHERE epoch = ?3 OR status = 'RESERVED'
      UNION ALL SELECT currency, 'MONTH:' || month, spent, held FROM r WHERE month = ?4 OR status = 'RESERVED'
      UNION ALL SELECT currency, 'LIFETIME', spent, held FROM r)
    GROUP BY currency, period_key`,
  // An account's whole balance in one statement: the gateway reads it for the x-balance-* headers of every request.
  balance: `SELECT c.available_nano AS credits_available, c.reserved_nano AS credits_reserved,
      u.available_nano AS usd_available, u.reserved_nano AS usd_reserved,
      d.allowance_nano AS diem_allowance, d.spent_nano AS diem_spent, d.reserved_nano AS diem_reserved
    FROM balances c JOIN balances u ON u.account_id = c.account_id AND u.source = 'USD'
      LEFT JOIN diem_allowances d ON d.account_id = c.account_id AND d.epoch = ?2
    WHERE c.account_id = ?1 AND c.source = 'CREDITS'`,
  sources: `SELECT source, available_nano, reserved_nano, 0 AS allowance_nano FROM balances WHERE account_id = ?1
    UNION ALL SELECT 'DIEM', allowance_nano - spent_nano - reserved_nano, reserved_nano, allowance_nano
      FROM diem_allowances WHERE account_id = ?1 AND epoch = ?2`,
  keyForUse: `SELECT account_id, expires_at_ms, revoked_at_ms, allowed_models,
    (SELECT json_group_array(json_array(currency, period, cast(amount_nano AS TEXT))) FROM key_limits WHERE key_id = ?1)
      AS limits FROM api_keys WHERE id = ?1`,
  diem: 'SELECT allowance_nano, direct_nano FROM diem_allowances WHERE account_id = ? AND epoch = ?',
  upsertDiem: `INSERT INTO diem_allowances (account_id, epoch, allowance_nano, direct_nano, spent_nano, reserved_nano)
    VALUES (?, ?, ?, ?, 0, 0)
    ON CONFLICT DO UPDATE SET allowance_nano = excluded.allowance_nano, direct_nano = excluded.direct_nano`,
  upsertWalletAllowance: `INSERT INTO wallet_allowances (address, epoch, allowance_nano) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET allowance_nano = excluded.allowance_nano`,
  walletsAllowance: `SELECT coalesce(sum(a.allowance_nano), 0) AS total FROM wallets w
    JOIN wallet_allowances a ON a.address = w.address AND a.epoch = ?2 WHERE w.account_id = ?1`,
  holdBalance: `UPDATE balances SET available_nano = available_nano - ?1, reserved_nano = reserved_nano + ?1
    WHERE account_id = ?2 AND source = ?3`,
  holdDiem: 'UPDATE diem_allowances SET reserved_nano = reserved_nano + ?1 WHERE account_id = ?2 AND epoch = ?3',
  releaseBalance: `UPDATE balances SET reserved_nano = reserved_nano - ?1, available_nano = available_nano + ?1 - ?2
    WHERE account_id = ?3 AND source = ?4`,
  releaseDiem: `UPDATE diem_allowances SET reserved_nano = reserved_nano - ?1, spent_nano = spent_nano + ?2
    WHERE account_id = ?3 AND epoch = ?4`,
  fund: 'UPDATE balances SET available_nano = available_nano + ? WHERE account_id = ? AND source = ?',
  insertFundingReference: `INSERT INTO funding_references (reference, account_id, source, amount_nano, created_at_ms)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  insertReservation: `INSERT INTO reservations (account_id, key_id, idempotency_key, request_id, request_hash, owner,
    model, source, epoch, month, amount_nano, status, created_at_ms, expires_at_ms, counted)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'RESERVED', ?, ?, ?)`,
  reservation: `SELECT ${reservationColumns}, counted FROM reservations WHERE id = ?`,
  response: 'SELECT response FROM reservations WHERE id = ?',
  // Everything a reserve reads about the account, in one statement: what each source has left, and the live or
  // settled reservation under this idempotency key, if any.
  reserveState: `SELECT
    (SELECT available_nano FROM balances WHERE account_id = ?1 AND source = 'CREDITS') AS credits,
    (SELECT available_nano FROM balances WHERE account_id = ?1 AND source = 'USD') AS usd,
    (SELECT allowance_nano - spent_nano - reserved_nano FROM diem_allowances WHERE account_id = ?1 AND epoch = ?2)
      AS diem,
    (SELECT id FROM reservations WHERE account_id = ?1 AND idempotency_key = ?3 AND released = 0) AS existing`,
  // The settle's state change and read in one step; no row: not live (the caller reads it to say why).
  settleReservation: `UPDATE reservations SET status = 'SETTLED', charged_nano = min(amount_nano, ?1),
    loss_nano = ?1 - min(amount_nano, ?1), finished_at_ms = ?2, response = ?4 WHERE id = ?3 AND status = 'RESERVED'
    RETURNING ${reservationColumns}, counted`,
  finishUnpaid: 'UPDATE reservations SET status = ?, released = 1, finished_at_ms = ? WHERE id = ?',
  expiredReservations: `SELECT ${reservationColumns}, counted FROM reservations
    WHERE status = 'RESERVED' AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?`,
  renewHolds: `UPDATE reservations SET expires_at_ms = ?1
    WHERE owner = ?2 AND status = 'RESERVED' AND expires_at_ms < ?1`,
  holdsOfOthers: `SELECT ${reservationColumns}, counted FROM reservations
    WHERE status = 'RESERVED' AND (owner IS NULL OR owner <> ?) ORDER BY id`,
  insertJournalPair: `INSERT INTO journal_entries (txn_id, kind, ledger_account, side, amount_nano, reservation_id,
    created_at_ms) VALUES (?1, ?2, ?3, 'DEBIT', ?5, ?6, ?7), (?1, ?2, ?4, 'CREDIT', ?5, ?6, ?7)`,
  journal: 'SELECT * FROM journal_entries WHERE id > ? ORDER BY id LIMIT ?',
  usagePage: `SELECT * FROM usage_records WHERE account_id = ?1 AND (?2 IS NULL OR key_id = ?2)
    AND (?3 IS NULL OR model = ?3) AND created_at_ms >= ?4 AND created_at_ms < ?5
    AND (created_at_ms, id) < (?6, ?7) ORDER BY created_at_ms DESC, id DESC LIMIT ?8`,
} as const;

type StatementName = keyof typeof statements;

const insertUsagePrefix = `INSERT INTO usage_records (reservation_id, request_id, account_id, key_id, model, sku, units,
  unit_price_nano, price_unit, list_amount_nano, amount_nano, currency, source, latency_ms, epoch, created_at_ms) VALUES`;
const usageColumnCount = 16;

export function openSqliteLedger(options: SqliteLedgerOptions): Ledger {
  const db = new DatabaseSync(options.path);
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
  // The hot pages (balances, key counters, index leaves of active accounts) stay in memory between commits.
  db.exec(`PRAGMA cache_size = -${cacheSizeKiB}`);
  db.exec('PRAGMA temp_store = MEMORY');
  migrate(db);
  const onDisk = options.path !== ':memory:' && options.path !== '';
  let checkpointer: Worker | null = null;
  if (onDisk && options.backgroundCheckpoints !== false) {
    db.exec('PRAGMA wal_autocheckpoint = 0');
    checkpointer = new Worker(new URL('./checkpointWorker.ts', import.meta.url), {
      workerData: {
        path: options.path,
        intervalMs: options.checkpointIntervalMs ?? checkpointIntervalMs,
        walFramesMax: options.walFramesMax ?? walFramesMax,
      },
    });
    checkpointer.unref();
  }
  return new SqliteLedger(
    db,
    options.clock,
    options.epochSeconds ?? epochSecondsDefault,
    checkpointer,
    options.instanceId ?? randomUUID(),
  );
}

function migrate(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
    );
    const applied = new Set(
      db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((row) => Number(row.version)),
    );
    for (const migration of sqliteMigrations) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        0,
      );
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

class SqliteLedger implements Ledger {
  readonly adapter = 'sqlite';
  readonly instanceId: string;
  private readonly db: DatabaseSync;
  private readonly clock: Clock;
  private readonly epochSeconds: number;
  private readonly stmt: Record<StatementName, StatementSync>;
  private pending: PendingOp[] = [];
  private readonly insertUsageStatements = new Map<number, StatementSync>();

  private readonly checkpointer: Worker | null;
  /** Set while the checkpoint thread catches the WAL up (group commits wait); the timer lifts it regardless. */
  private commitsHeld: NodeJS.Timeout | null = null;

  constructor(db: DatabaseSync, clock: Clock, epochSeconds: number, checkpointer: Worker | null, instanceId: string) {
    this.db = db;
    this.instanceId = instanceId;
    this.checkpointer = checkpointer;
    checkpointer?.on('message', (message: unknown) => {
      if (message === 'pause') this.holdCommits(checkpointer);
      else if (message === 'resume') this.releaseCommits();
    });
    this.clock = clock;
    this.epochSeconds = epochSeconds;
    const prepared = {} as Record<StatementName, StatementSync>;
    for (const [name, sql] of Object.entries(statements) as [StatementName, string][]) {
      const statement = db.prepare(sql);
      statement.setReadBigInts(true);
      prepared[name] = statement;
    }
    this.stmt = prepared;
  }

  /** One transaction around `body`, for writes outside the group commit (migrations, admin operations). */
  private tx<T>(body: () => T): T {
    this.stmt.begin.run();
    try {
      const result = body();
      this.stmt.commit.run();
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.stmt.rollback.run();
      throw error;
    }
  }

  /**
   * Group commit for the hot path: every operation queued during one event-loop turn runs in one transaction, and
   * every promise settles only after the COMMIT. Most of the cost of a commit is the pages it writes; a group writes
   * each hot page once. Operations throw their typed errors (PerdiemError) before their first write, so such a
   * failure leaves the group intact; any other error rolls the group back and replays each operation on its own.
   *
   * The group commits in the check phase right after the current poll phase (setImmediate), so it gathers the
   * operations of every socket callback the loop ran in this turn: a gateway's concurrent requests each arrive in
   * their own callback. A request served alone waits only for that phase, not for a timer or more I/O.
   */
  private write<T>(body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ body, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length > 1 || this.commitsHeld) return;
      setImmediate(this.flushBound);
    });
  }

  private readonly flushBound = () => this.flush();

  /**
   * The checkpoint thread asks for a pause to let the WAL restart: this runs between two groups (a group runs in one
   * callback), so no write transaction of this connection is open. Operations queue meanwhile. The hold is lifted by
   * `resume`, or after a second should that never come.
   */
  private holdCommits(checkpointer: Worker): void {
    if (this.commitsHeld) return;
    this.commitsHeld = setTimeout(() => this.releaseCommits(), commitHoldMsMax).unref();
    checkpointer.postMessage('paused');
  }

  private releaseCommits(): void {
    if (!this.commitsHeld) return;
    clearTimeout(this.commitsHeld);
    this.commitsHeld = null;
    if (this.pending.length > 0) setImmediate(this.flushBound);
  }

  private flush(): void {
    if (this.commitsHeld || this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    if (group.length > 1 && this.runGroup(group)) return;
    for (const op of group) {
      try {
        op.resolve(this.tx(op.body));
      } catch (error) {
        op.reject(error);
      }
    }
  }

  /** Runs a group in one transaction; false (and nothing written) when it must be replayed one by one. */
  private runGroup(group: PendingOp[]): boolean {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.stmt.begin.run();
      for (const op of group) {
        try {
          outcomes.push({ ok: true, value: op.body() });
        } catch (error) {
          if (!(error instanceof PerdiemError)) throw error;
          outcomes.push({ ok: false, value: error });
        }
      }
      this.stmt.commit.run();
    } catch {
      if (this.db.isTransaction) this.stmt.rollback.run();
      return false;
    }
    group.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.value);
    });
    return true;
  }

  async createAccount(input: { id?: string; name?: string | null } = {}): Promise<Account> {
    const account: Account = { id: input.id ?? randomUUID(), name: input.name ?? null, createdAtMs: this.clock() };
    this.tx(() => {
      if (this.stmt.account.get(account.id)) {
        throw new ConflictError(`account ${account.id} exists`, { code: 'account_exists' });
      }
      this.stmt.insertAccount.run(account.id, account.name, account.createdAtMs);
      this.stmt.insertBalance.run(account.id, 'CREDITS');
      this.stmt.insertBalance.run(account.id, 'USD');
    });
    return account;
  }

  async getAccount(accountId: string): Promise<Account | null> {
    const row = this.stmt.account.get(accountId);
    return row ? toAccount(row) : null;
  }

  async linkWallet(accountId: string, address: string): Promise<void> {
    const wallet = normaliseWallet(address);
    this.tx(() => {
      this.requireAccount(accountId);
      const owner = this.stmt.wallet.get(wallet);
      if (owner && owner.account_id !== accountId) {
        throw new ConflictError('wallet is linked to another account', { code: 'wallet_linked', param: 'address' });
      }
      if (!owner) this.stmt.insertWallet.run(wallet, accountId, this.clock());
    });
  }

  async accountByWallet(address: string): Promise<Account | null> {
    const owner = this.stmt.wallet.get(normaliseWallet(address));
    return owner ? this.getAccount(owner.account_id as string) : null;
  }

  async listWallets(): Promise<{ accountId: string; address: string }[]> {
    const rows = this.db.prepare('SELECT address, account_id FROM wallets ORDER BY linked_at_ms, address').all();
    return rows.map((row) => ({ accountId: row.account_id as string, address: row.address as string }));
  }

  async walletsOfAccount(accountId: string): Promise<WalletLink[]> {
    return this.stmt.walletsOfAccount.all(accountId).map((row) => ({
      address: row.address as string,
      accountId: row.account_id as string,
      linkedAtMs: Number(row.linked_at_ms),
    }));
  }

  async createKey(input: Parameters<Ledger['createKey']>[0]) {
    validateKeyInput(input);
    const secret = generateSecret();
    const id = randomUUID();
    this.tx(() => {
      this.requireAccount(input.accountId);
      this.stmt.insertKey.run(
        id,
        input.accountId,
        input.kind,
        input.name,
        hashSecret(secret),
        displayPrefixOf(secret),
        secretLast6Of(secret),
        this.clock(),
        input.expiresAtMs ?? null,
        modelsToText(input.allowedModels ?? null),
        ...rateLimitColumns(input.rateLimits ?? null),
      );
      this.writeLimits(id, input.accountId, input.limits ?? []);
    });
    return { key: this.readKey(id)!, secret };
  }

  async authenticate(secret: string): Promise<ApiKey> {
    const row = this.stmt.keyByHash.get(hashSecret(secret));
    const key = row ? this.keyFromRow(row) : null;
    if (!key) throw new AuthenticationError('invalid API key', { code: 'invalid_api_key' });
    return checkKeyUsable(key, key.accountId, null, this.clock());
  }

  async getKey(keyId: string): Promise<ApiKey | null> {
    return this.readKey(keyId);
  }

  async listKeys(accountId: string): Promise<ApiKey[]> {
    return this.stmt.keysOfAccount.all(accountId).map((row) => this.keyFromRow(row));
  }

  async updateKey(keyId: string, patch: Parameters<Ledger['updateKey']>[1]): Promise<ApiKey> {
    validateKeyInput(patch);
    this.tx(() => {
      const key = this.readKey(keyId);
      if (!key) throw new NotFoundError('API key not found', { code: 'key_not_found' });
      this.stmt.updateKey.run(
        patch.name ?? key.name,
        patch.expiresAtMs === undefined ? key.expiresAtMs : patch.expiresAtMs,
        modelsToText(patch.allowedModels === undefined ? key.allowedModels : patch.allowedModels),
        ...rateLimitColumns(patch.rateLimits === undefined ? key.rateLimits : patch.rateLimits),
        keyId,
      );
      if (patch.limits) this.writeLimits(keyId, key.accountId, patch.limits);
    });
    return this.readKey(keyId)!;
  }

  async revokeKey(keyId: string): Promise<ApiKey> {
    const result = this.stmt.revokeKey.run(this.clock(), keyId);
    if (Number(result.changes) === 0) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    return this.readKey(keyId)!;
  }

  async setDiemAllowance(accountId: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    validateAllowance(epoch, allowanceNano);
    const now = this.clock();
    this.tx(() => {
      this.requireAccount(accountId);
      this.writeDiemAllowance(accountId, epoch, allowanceNano, now);
    });
  }

  async setWalletAllowance(address: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    const wallet = normaliseWallet(address);
    validateAllowance(epoch, allowanceNano);
    const now = this.clock();
    this.tx(() => {
      const owner = this.stmt.wallet.get(wallet);
      if (!owner) throw walletNotLinked();
      this.stmt.upsertWalletAllowance.run(wallet, epoch, allowanceNano);
      this.writeDiemAllowance(owner.account_id as string, epoch, null, now);
    });
  }

  async allowanceSnapshotBlock(epoch: number): Promise<bigint | null> {
    const row = this.stmt.snapshotBlock.get(epoch);
    return row ? (row.block_number as bigint) : null;
  }

  async claimAllowanceSnapshotBlock(epoch: number, blockNumber: bigint): Promise<bigint> {
    validateSnapshotBlock(epoch, blockNumber);
    const now = this.clock();
    // BEGIN IMMEDIATE: the insert and the read back see one writer at a time, also across processes.
    return this.tx(() => {
      this.stmt.claimSnapshotBlock.run(epoch, blockNumber, now);
      return this.stmt.snapshotBlock.get(epoch)!.block_number as bigint;
    });
  }

  async addFunds(input: Parameters<Ledger['addFunds']>[0]): Promise<boolean> {
    if (input.amountNano <= 0n) throw new RangeError('funding amount must be positive');
    const now = this.clock();
    return this.tx(() => {
      this.requireAccount(input.accountId);
      const inserted = this.stmt.insertFundingReference.run(
        input.reference,
        input.accountId,
        input.source,
        input.amountNano,
        now,
      );
      if (Number(inserted.changes) === 0) return false;
      this.stmt.fund.run(input.amountNano, input.accountId, input.source);
      this.journalPair(
        `funding:${input.reference}`,
        'FUNDING',
        fundingAccountOf(input.source),
        ledgerAccountOf(input.accountId, input.source, 0),
        input.amountNano,
        null,
        now,
      );
      return true;
    });
  }

  async balance(accountId: string): Promise<Balance> {
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const row = this.stmt.balance.get(accountId, epoch);
    if (!row) throw new NotFoundError('account not found', { code: 'account_not_found' });
    const allowanceNano = (row.diem_allowance as bigint | null) ?? 0n;
    const spentNano = (row.diem_spent as bigint | null) ?? 0n;
    const reservedNano = (row.diem_reserved as bigint | null) ?? 0n;
    const left = allowanceNano - spentNano - reservedNano;
    return {
      accountId,
      epoch,
      nextEpochBegins: nextEpochBegins(now, this.epochSeconds),
      diem: { allowanceNano, spentNano, reservedNano, availableNano: left > 0n ? left : 0n },
      credits: { availableNano: row.credits_available as bigint, reservedNano: row.credits_reserved as bigint },
      usd: { availableNano: row.usd_available as bigint, reservedNano: row.usd_reserved as bigint },
    };
  }

  async spendable(input: Parameters<Ledger['spendable']>[0]) {
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const month = monthAt(now);
    const usage = input.keyId
      ? this.keyLimitsInUse(input.accountId, input.keyId, input.model ?? null, now, epoch, month)
      : null;
    const available = this.available(input.accountId, epoch);
    const sources = headroomsOf(available, headroomOf(usage));
    let best = sources[0]!;
    for (const s of sources) if (s.headroomNano > best.headroomNano) best = s;
    return { sources, maxNano: best.headroomNano, source: best.headroomNano > 0n ? best.source : null };
  }

  async reserve(input: Parameters<Ledger['reserve']>[0]) {
    const { amountNano, minAmountNano, ttlMs, requestId, requestHash } = validateReserveInput(input);
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const month = monthAt(now);
    return this.write(() => {
      const state = this.stmt.reserveState.get(input.accountId, epoch, input.idempotencyKey)!;
      if (state.credits === null) throw new NotFoundError('account not found', { code: 'account_not_found' });
      if (state.existing !== null) {
        const existing = replayOf(toReservation(this.stmt.reservation.get(state.existing as bigint)!), input);
        const response =
          existing.status === 'SETTLED'
            ? ((this.stmt.response.get(state.existing as bigint)?.response as string | null | undefined) ?? null)
            : null;
        return { reservation: existing, replayed: true, response };
      }
      const available: Record<FundingSource, NanoUsd> = {
        DIEM: (state.diem as bigint | null) ?? 0n,
        CREDITS: state.credits as bigint,
        USD: (state.usd as bigint | null) ?? 0n,
      };
      // Null: no key, or a key without limits, whose spend is not counted (see writeLimits).
      const usage = input.keyId
        ? this.keyLimitsInUse(input.accountId, input.keyId, input.model, now, epoch, month)
        : null;
      const choice = chooseSource(headroomsOf(available, headroomOf(usage)), amountNano, minAmountNano);
      if (!choice) throw reserveRefusal(available, amountNano, minAmountNano, usage ?? []);
      const reservation: Reservation = {
        id: '',
        accountId: input.accountId,
        keyId: input.keyId,
        idempotencyKey: input.idempotencyKey,
        requestId,
        requestHash,
        owner: this.instanceId,
        model: input.model,
        source: choice.source,
        epoch,
        month,
        amountNano: choice.amountNano,
        status: 'RESERVED',
        chargedNano: null,
        lossNano: null,
        createdAtMs: now,
        expiresAtMs: now + ttlMs,
        finishedAtMs: null,
      };
      if (choice.source === 'DIEM') this.stmt.holdDiem.run(choice.amountNano, input.accountId, epoch);
      else this.stmt.holdBalance.run(choice.amountNano, input.accountId, choice.source);
      const counted = usage !== null;
      if (counted) {
        const [e, m, l] = periodKeysOf(epoch, month);
        this.stmt.reserveKeySpend.run(input.keyId, limitCurrencyOf(choice.source), e, m, l, choice.amountNano);
      }
      const inserted = this.stmt.insertReservation.run(
        reservation.accountId,
        reservation.keyId,
        reservation.idempotencyKey,
        reservation.requestId,
        reservation.requestHash,
        reservation.owner,
        reservation.model,
        reservation.source,
        epoch,
        month,
        reservation.amountNano,
        now,
        reservation.expiresAtMs,
        counted ? 1 : 0,
      );
      reservation.id = String(inserted.lastInsertRowid);
      available[choice.source] -= choice.amountNano;
      if (available.DIEM < 0n) available.DIEM = 0n;
      return { reservation, replayed: false, available };
    });
  }

  async settle(input: Parameters<Ledger['settle']>[0]) {
    const actualNano = validateSettleInput(input);
    const now = this.clock();
    return this.write(() => {
      const id = /^\d{1,18}$/.test(input.reservationId) ? BigInt(input.reservationId) : -1n;
      const row = this.stmt.settleReservation.get(actualNano, now, id, input.response ?? null);
      if (!row) return { reservation: this.settledBefore(input.reservationId, actualNano), replayed: true };
      const reservation = toReservation(row);
      const chargedNano = reservation.chargedNano!;
      const lossNano = reservation.lossNano!;
      this.release(reservation, row.counted === 1n, chargedNano);
      this.insertUsage(reservation, input.lines, allocateCharge(input.lines, chargedNano), input.latencyMs, now);
      const txnId = `settle:${reservation.id}`;
      if (chargedNano > 0n) {
        const payer = ledgerAccountOf(reservation.accountId, reservation.source, reservation.epoch);
        this.journalPair(txnId, 'CHARGE', payer, operatorRevenue, chargedNano, reservation.id, now);
      }
      if (lossNano > 0n) this.journalPair(txnId, 'LOSS', operatorLoss, operatorRevenue, lossNano, reservation.id, now);
      return { reservation, replayed: false };
    });
  }

  /** A settle that found no live reservation: a replay of the same settle, or a typed error saying why not. */
  private settledBefore(reservationId: string, actualNano: NanoUsd): Reservation {
    const reservation = toReservation(this.requireReservationRow(reservationId));
    if (reservation.status === 'SETTLED') {
      if (reservation.chargedNano! + reservation.lossNano! === actualNano) return reservation;
      throw new ConflictError('reservation already settled with another cost', { code: 'already_settled' });
    }
    throw new ConflictError(`reservation is ${reservation.status.toLowerCase()}`, { code: 'reservation_not_active' });
  }

  /** Every usage line of a settle in one multi-row INSERT. */
  private insertUsage(
    reservation: Reservation,
    lines: UsageLineInput[],
    charges: NanoUsd[],
    latencyMs: number | null,
    now: number,
  ): void {
    if (lines.length === 0) return;
    const currency = limitCurrencyOf(reservation.source);
    const values: SQLInputValue[] = [];
    lines.forEach((line, i) => {
      values.push(
        reservation.id,
        reservation.requestId,
        reservation.accountId,
        reservation.keyId,
        reservation.model,
        line.sku,
        line.units,
        line.unitPriceNano,
        line.priceUnit,
        line.amountNano,
        charges[i]!,
        currency,
        reservation.source,
        latencyMs,
        reservation.epoch,
        now,
      );
    });
    this.insertUsageStatement(lines.length).run(...values);
  }

  private insertUsageStatement(lineCount: number): StatementSync {
    let statement = this.insertUsageStatements.get(lineCount);
    if (!statement) {
      const row = `(${Array.from({ length: usageColumnCount }, () => '?').join(', ')})`;
      statement = this.db.prepare(`${insertUsagePrefix} ${Array.from({ length: lineCount }, () => row).join(', ')}`);
      this.insertUsageStatements.set(lineCount, statement);
    }
    return statement;
  }

  async void(reservationId: string): Promise<Reservation> {
    const now = this.clock();
    return this.write(() => {
      const row = this.requireReservationRow(reservationId);
      const reservation = toReservation(row);
      if (reservation.status === 'VOIDED' || reservation.status === 'EXPIRED') return reservation;
      if (reservation.status === 'SETTLED') {
        throw new ConflictError('reservation already settled', { code: 'already_settled' });
      }
      return this.finishUnpaid(reservation, row.counted === 1n, 'VOIDED', now);
    });
  }

  async expireReservations(limit: number = ledgerLimits.expireBatchSizeMax): Promise<number> {
    const now = this.clock();
    return this.write(() => {
      const rows = this.stmt.expiredReservations.all(now, Math.min(limit, ledgerLimits.expireBatchSizeMax));
      for (const row of rows) this.finishUnpaid(toReservation(row), row.counted === 1n, 'EXPIRED', now);
      return rows.length;
    });
  }

  async renewHolds(ttlMs: number): Promise<number> {
    validateHoldTtl(ttlMs);
    const now = this.clock();
    return this.write(() => Number(this.stmt.renewHolds.run(now + ttlMs, this.instanceId).changes));
  }

  async voidHoldsOfOtherInstances(): Promise<number> {
    const now = this.clock();
    return this.write(() => {
      const rows = this.stmt.holdsOfOthers.all(this.instanceId);
      for (const row of rows) this.finishUnpaid(toReservation(row), row.counted === 1n, 'VOIDED', now);
      return rows.length;
    });
  }

  async keyLimitUsage(keyId: string): Promise<KeyLimitUsage[]> {
    const key = this.readKey(keyId);
    if (!key) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    const now = this.clock();
    return this.limitUsage(keyId, key.limits, epochAt(now, this.epochSeconds), monthAt(now));
  }

  async getReservation(reservationId: string): Promise<Reservation | null> {
    const row = /^\d{1,18}$/.test(reservationId) ? this.stmt.reservation.get(BigInt(reservationId)) : undefined;
    return row ? toReservation(row) : null;
  }

  async usageHistory(query: Parameters<Ledger['usageHistory']>[0]) {
    const limit = pageSizeOf(query.limit);
    const cursor = query.cursor ? decodeCursor(query.cursor) : { createdAtMs: Number.MAX_SAFE_INTEGER, id: 0n };
    const rows = this.stmt.usagePage.all(
      query.accountId,
      query.keyId ?? null,
      query.model ?? null,
      query.fromMs ?? 0,
      query.toMs ?? Number.MAX_SAFE_INTEGER,
      cursor.createdAtMs,
      query.cursor ? cursor.id : BigInt(Number.MAX_SAFE_INTEGER),
      limit + 1,
    );
    const items = rows.slice(0, limit).map(toUsage);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAtMs, last.id) : null };
  }

  async usageAnalytics(query: Parameters<Ledger['usageAnalytics']>[0]) {
    const run = (group: string): AnalyticsRow[] => {
      const sql = `SELECT ${group} AS grp, currency, sum(amount_nano) AS amount, count(DISTINCT reservation_id) AS requests,
        sum(units) AS units FROM usage_records WHERE (?1 IS NULL OR account_id = ?1) AND created_at_ms >= ?2
        AND created_at_ms < ?3
        AND (?4 IS NULL OR key_id = ?4) GROUP BY grp, currency ORDER BY grp, currency`;
      const statement = this.db.prepare(sql);
      statement.setReadBigInts(true);
      return statement.all(query.accountId, query.fromMs, query.toMs, query.keyId ?? null).map(toAnalyticsRow);
    };
    return {
      byDay: run("strftime('%Y-%m-%d', created_at_ms / 1000, 'unixepoch')"),
      byModel: run('model'),
      byKey: run("coalesce(key_id, '')"),
    };
  }

  async fundings(input: { accountId: string; source?: 'CREDITS' | 'USD'; limit?: number }): Promise<Funding[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    const statement = this.db.prepare(
      `SELECT reference, source, amount_nano, created_at_ms FROM funding_references
       WHERE account_id = ?1 AND (?2 IS NULL OR source = ?2) ORDER BY created_at_ms DESC, reference LIMIT ?3`,
    );
    statement.setReadBigInts(true);
    return statement.all(input.accountId, input.source ?? null, limit).map((row) => ({
      reference: row.reference as string,
      source: row.source as Funding['source'],
      amountNano: row.amount_nano as bigint,
      createdAtMs: Number(row.created_at_ms),
    }));
  }

  async journal(input: { afterId?: string | null; limit?: number } = {}): Promise<JournalEntry[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    return this.stmt.journal.all(BigInt(input.afterId ?? 0), limit).map(toJournalEntry);
  }

  async close(): Promise<void> {
    if (this.checkpointer) {
      const checkpointer = this.checkpointer;
      const stopped = new Promise<void>((resolve) => {
        checkpointer.on('message', (message: unknown) => {
          if (message === 'stopped') resolve();
        });
      });
      checkpointer.postMessage('stop');
      await stopped;
      await checkpointer.terminate();
      this.releaseCommits();
    }
    if (this.db.isOpen) {
      // Operations queued before close are committed, not dropped (a flush scheduled for them finds none left).
      this.flush();
      this.db.close();
    }
  }

  // ── internals (always inside a transaction when they write) ──────────────────────────────────────────────

  private requireAccount(accountId: string): void {
    if (!this.stmt.account.get(accountId)) throw new NotFoundError('account not found', { code: 'account_not_found' });
  }

  private requireReservationRow(reservationId: string): Row {
    const row = /^\d{1,18}$/.test(reservationId) ? this.stmt.reservation.get(BigInt(reservationId)) : undefined;
    if (!row) throw new NotFoundError('reservation not found', { code: 'reservation_not_found' });
    return row;
  }

  private available(accountId: string, epoch: number): Record<FundingSource, NanoUsd> {
    const rows = this.stmt.sources.all(accountId, epoch);
    if (rows.length === 0) throw new NotFoundError('account not found', { code: 'account_not_found' });
    const available: Record<FundingSource, NanoUsd> = { DIEM: 0n, CREDITS: 0n, USD: 0n };
    for (const row of rows) available[row.source as FundingSource] = row.available_nano as bigint;
    return available;
  }

  /** Checks the key may be used now; returns its limits with their current use, or null when it has none. */
  private keyLimitsInUse(
    accountId: string,
    keyId: string,
    model: string | null,
    now: number,
    epoch: number,
    month: string,
  ): KeyLimitUsage[] | null {
    const row = this.stmt.keyForUse.get(keyId);
    if (!row || row.account_id !== accountId) checkKeyUsable(null, accountId, model, now);
    checkKeyUsable(keyForUse(keyId, row!), accountId, model, now);
    const limits = JSON.parse(row!.limits as string) as [KeyLimit['currency'], KeyLimit['period'], string][];
    if (limits.length === 0) return null;
    return this.limitUsage(
      keyId,
      limits.map(([currency, period, amount]) => ({ currency, period, amountNano: BigInt(amount) })),
      epoch,
      month,
    );
  }

  private limitUsage(keyId: string, limits: KeyLimit[], epoch: number, month: string): KeyLimitUsage[] {
    return limits.map((limit) => {
      const periodKey = periodKeyOf(limit.period, epoch, month);
      const spend = this.stmt.keySpend.get(keyId, limit.currency, periodKey);
      return keyLimitUsageOf(
        limit,
        periodKey,
        (spend?.spent_nano as bigint | undefined) ?? 0n,
        (spend?.reserved_nano as bigint | undefined) ?? 0n,
      );
    });
  }

  /**
   * Returns a reservation's hold to its source, and to its key's counters when they count it, moving `chargedNano`
   * of it to spent.
   */
  private release(reservation: Reservation, counted: boolean, chargedNano: NanoUsd): void {
    const { accountId, amountNano, source, epoch } = reservation;
    if (source === 'DIEM') this.stmt.releaseDiem.run(amountNano, chargedNano, accountId, epoch);
    else this.stmt.releaseBalance.run(amountNano, chargedNano, accountId, source);
    if (counted && reservation.keyId) {
      const [e, m, l] = periodKeysOf(epoch, reservation.month);
      this.stmt.releaseKeySpend.run(amountNano, chargedNano, reservation.keyId, limitCurrencyOf(source), e, m, l);
    }
  }

  private finishUnpaid(
    reservation: Reservation,
    counted: boolean,
    status: 'VOIDED' | 'EXPIRED',
    now: number,
  ): Reservation {
    this.release(reservation, counted, 0n);
    this.stmt.finishUnpaid.run(status, now, BigInt(reservation.id));
    return { ...reservation, status, finishedAtMs: now };
  }

  /**
   * Sets the account's allowance for the epoch to its direct part (the given one, or the stored one when null) plus
   * its wallets' sum, and journals the change.
   */
  private writeDiemAllowance(accountId: string, epoch: number, directNano: NanoUsd | null, now: number): void {
    const row = this.stmt.diem.get(accountId, epoch);
    const before = (row?.allowance_nano as bigint | undefined) ?? 0n;
    const direct = directNano ?? (row?.direct_nano as bigint | undefined) ?? 0n;
    const after = direct + (this.stmt.walletsAllowance.get(accountId, epoch)!.total as bigint);
    if (row && after === before && direct === row.direct_nano) return;
    this.stmt.upsertDiem.run(accountId, epoch, after, direct);
    if (after === before) return;
    const grant = after > before;
    const [debit, credit] = [fundingAccountOf('DIEM'), ledgerAccountOf(accountId, 'DIEM', epoch)];
    this.journalPair(
      `allowance:${randomUUID()}`,
      'ALLOWANCE',
      grant ? debit : credit,
      grant ? credit : debit,
      grant ? after - before : before - after,
      null,
      now,
    );
  }

  private journalPair(
    txnId: string,
    kind: JournalEntry['kind'],
    debit: string,
    credit: string,
    amountNano: NanoUsd,
    reservationId: string | null,
    now: number,
  ): void {
    this.stmt.insertJournalPair.run(txnId, kind, debit, credit, amountNano, reservationId, now);
  }

  /**
   * A key's spend is counted (key_spend rows, and `counted` on its live reservations) exactly while it has limits:
   * most keys have none, and counting costs a reserve and a settle two statements and six row writes. A key that
   * gains limits has its counters rebuilt from its reservations, in the same transaction, so a limit still sees
   * what the key spent before it and what it holds now; a key that loses them drops its counters.
   */
  private writeLimits(keyId: string, accountId: string, limits: KeyLimit[]): void {
    const hadLimits = this.stmt.hasLimits.get(keyId) !== undefined;
    this.stmt.deleteLimits.run(keyId);
    for (const limit of limits) this.stmt.insertLimit.run(keyId, limit.currency, limit.period, limit.amountNano);
    const hasLimits = limits.length > 0;
    if (hasLimits === hadLimits) return;
    this.stmt.deleteKeySpend.run(keyId);
    this.stmt.markCounted.run(hasLimits ? 1 : 0, accountId, keyId);
    if (hasLimits) {
      const now = this.clock();
      this.stmt.backfillKeySpend.run(keyId, accountId, epochAt(now, this.epochSeconds), monthAt(now));
    }
  }

  private readKey(keyId: string): ApiKey | null {
    const row = this.stmt.key.get(keyId);
    return row ? this.keyFromRow(row) : null;
  }

  private keyFromRow(row: Row): ApiKey {
    return toApiKey(row, modelsFromText(row.allowed_models), this.stmt.limits.all(row.id as string));
  }
}

function headroomOf(usage: KeyLimitUsage[] | null) {
  if (usage === null) return noKeyHeadroom;
  return keyHeadroomOf(usage.map((limit) => ({ limit, usedNano: limit.spentNano + limit.reservedNano })));
}

function rateLimitColumns(rateLimits: KeyRateLimits | null): [number | null, number | null] {
  return [rateLimits?.requestsPerMinute ?? null, rateLimits?.tokensPerMinute ?? null];
}

/** The fields of a key that `checkKeyUsable` reads, from the hot-path query. */
function keyForUse(keyId: string, row: Row): ApiKey {
  return {
    id: keyId,
    accountId: row.account_id as string,
    kind: 'INFERENCE',
    name: '',
    secretPrefix: '',
    secretLast6: null,
    createdAtMs: 0,
    expiresAtMs: nullableNumber(row.expires_at_ms),
    revokedAtMs: nullableNumber(row.revoked_at_ms),
    allowedModels: modelsFromText(row.allowed_models),
    limits: [],
    rateLimits: null,
  };
}

function modelsToText(models: string[] | null): string | null {
  return models === null ? null : JSON.stringify(models);
}

function modelsFromText(text: unknown): string[] | null {
  return text === null ? null : (JSON.parse(text as string) as string[]);
}

function toAccount(row: Row): Account {
  return { id: row.id as string, name: (row.name as string | null) ?? null, createdAtMs: Number(row.created_at_ms) };
}

function toAnalyticsRow(row: Row): AnalyticsRow {
  return {
    group: row.grp as string,
    currency: row.currency as AnalyticsRow['currency'],
    amountNano: row.amount as bigint,
    requests: Number(row.requests),
    units: Number(row.units),
  };
}

function toJournalEntry(row: Row): JournalEntry {
  return {
    id: String(row.id),
    txnId: row.txn_id as string,
    kind: row.kind as JournalEntry['kind'],
    ledgerAccount: row.ledger_account as string,
    side: row.side as JournalEntry['side'],
    amountNano: row.amount_nano as bigint,
    reservationId: (row.reservation_id as string | null) ?? null,
    createdAtMs: Number(row.created_at_ms),
  };
}
