/**
 * The scale-out ledger: PostgreSQL through the `postgres` package, shared by any number of gateway replicas. The hot
 * path is one round trip per operation: reserve, settle, void and expire each call one PL/pgSQL function (see
 * functions.ts for the locking rules). Concurrent reserves, settles and voids share that round trip and its
 * transaction (group commit through `perdiem_batch`, see batcher.ts); a lone call goes at once. Other operations
 * are short transactions.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { type Clock, epochAt, epochSecondsDefault, monthAt, nextEpochBegins } from '../../core/epoch.ts';
import {
  AuthenticationError,
  ConflictError,
  IdempotencyMismatchError,
  InsufficientFundsError,
  NotFoundError,
  PermissionError,
} from '../../core/errors.ts';
import { timeOrderedHex } from '../../core/ids.ts';
import type { NanoUsd } from '../../core/money.ts';
import { checkKeyUsable, normaliseWallet, validateKeyInput, walletNotLinked } from '../accounts/accountRules.ts';
import { displayPrefixOf, generateSecret, hashSecret, secretLast6Of } from '../apiKeySecret.ts';
import { validateAllowance, validateSnapshotBlock } from '../funding/fundingRules.ts';
import { ledgerLimits } from '../limits.ts';
import {
  headroomsOf,
  type KeyHeadroom,
  keyHeadroomOf,
  keyLimitExceededError,
  keyLimitUsageOf,
  noKeyHeadroom,
} from '../metering/keyLimitRules.ts';
import {
  fundingAccountOf,
  ledgerAccountOf,
  periodKeyOf,
  validateHoldTtl,
  validateReserveInput,
  validateSettleInput,
} from '../metering/meteringRules.ts';
import { decodeCursor, encodeCursor, pageSizeOf } from '../reporting/reportingRules.ts';
import { type Row, toApiKey, toReservation, toUsage } from '../rows.ts';
import type {
  Account,
  AnalyticsRow,
  ApiKey,
  Balance,
  CreatedKey,
  CreateKeyInput,
  Funding,
  FundingSource,
  JournalEntry,
  KeyLimit,
  KeyLimitUsage,
  KeyRateLimits,
  Ledger,
  Reservation,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
  Spendable,
  UpdateKeyInput,
  UsageAnalytics,
  UsagePage,
  UsageQuery,
  WalletLink,
} from '../types.ts';
import { Batcher } from './batcher.ts';
import { installPostgresFunctions } from './functions.ts';
import { applyPostgresMigrations } from './migrate.ts';
import { postgresMigrations } from './migrations.ts';

export interface PostgresLedgerOptions {
  url: string;
  /** Tables and functions live in this schema (default "perdiem"); it is created when `createSchema` is set. */
  schema?: string;
  createSchema?: boolean;
  clock: Clock;
  epochSeconds?: number;
  /** Connection pool size. */
  poolMax?: number;
  /** Shown in pg_stat_activity, to tell replicas apart. */
  applicationName?: string;
  /**
   * Durability of the metering hot path (reserve, settle, void, expire). 'on' (default) waits for the WAL flush of
   * every commit. 'off' returns before it: a crash of the database server (not of a gateway) may then lose the last
   * few hundred milliseconds of metering — settles fall back to their reservations, which expire uncharged, so the
   * loss is the operator's, and an account is never charged twice or left with stranded funds. Money coming in
   * (funding, allowances) always commits synchronously.
   */
  synchronousCommit?: 'on' | 'off';
  /** This ledger's `instanceId` (the owner of the reservations it makes); default a random id. */
  instanceId?: string;
}

type Sql = postgres.Sql<{ bigint: bigint }>;

/** A reserve with everything the database needs, fixed when the caller made it (its time, its reservation id). */
interface ReserveCall {
  id: string;
  input: ReserveInput;
  requestId: string;
  requestHash: string | null;
  amountNano: NanoUsd;
  minAmountNano: NanoUsd;
  now: number;
  expiresAtMs: number;
  epoch: number;
  month: string;
}

interface SettleCall {
  input: SettleInput;
  now: number;
}

type HotOp =
  | { kind: 'reserve'; call: ReserveCall }
  | { kind: 'settle'; call: SettleCall }
  | { kind: 'void'; id: string; now: number };
type HotResult = ReserveResult | SettleResult | Reservation;

const kindCode = { reserve: 'R', settle: 'S', void: 'V' } as const;

const migrationLockId = 7_262_001;

export async function openPostgresLedger(options: PostgresLedgerOptions): Promise<Ledger> {
  const schema = options.schema ?? 'perdiem';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`invalid schema name: ${schema}`);
  const sql = postgres(options.url, {
    max: options.poolMax ?? 10,
    types: { bigint: postgres.BigInt },
    connection: {
      search_path: schema,
      application_name: options.applicationName ?? 'perdiem-ledger',
      synchronous_commit: options.synchronousCommit ?? 'on',
    },
    onnotice: () => {},
  }) as unknown as Sql;
  try {
    if (options.createSchema) await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await applyPostgresMigrations(sql, {
      table: 'schema_migrations',
      lockId: migrationLockId,
      migrations: postgresMigrations,
      after: installPostgresFunctions,
    });
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
  return new PostgresLedger(
    sql,
    options.clock,
    options.epochSeconds ?? epochSecondsDefault,
    options.instanceId ?? randomUUID(),
  );
}

/** Maps a `perdiem:<code>` raised by a ledger function to the typed error the gateway renders. */
function mapDbError(error: unknown): unknown {
  const message = (error as { message?: string }).message ?? '';
  const match = /^perdiem:(\w+)$/.exec(message);
  if (!match) return error;
  const code = match[1]!;
  switch (code) {
    case 'account_not_found':
      return new NotFoundError('account not found', { code });
    case 'reservation_not_found':
      return new NotFoundError('reservation not found', { code });
    case 'idempotency_key_mismatch':
      return new IdempotencyMismatchError('this idempotency key was already used for a different request', {
        code,
        param: null,
      });
    case 'idempotency_key_reused':
      return new ConflictError('idempotency key reused for a different request', { code, param: 'Idempotency-Key' });
    case 'already_settled':
      return new ConflictError('reservation already settled', { code });
    case 'reservation_not_active':
      return new ConflictError('reservation is no longer active', { code });
    case 'invalid_api_key':
      return new AuthenticationError('unknown API key', { code });
    case 'api_key_revoked':
      return new AuthenticationError('API key revoked', { code });
    case 'api_key_expired':
      return new AuthenticationError('API key expired', { code });
    case 'model_not_allowed':
      return new PermissionError('this key may not use this model', { code, param: 'model' });
    case 'key_limit_exceeded':
      return new InsufficientFundsError('this API key has reached its spend limit', { code });
    case 'insufficient_balance':
      return new InsufficientFundsError('insufficient balance', { code });
    default:
      return error;
  }
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw mapDbError(error);
  }
}

class PostgresLedger implements Ledger {
  readonly adapter = 'postgres';
  readonly instanceId: string;
  private readonly sql: Sql;
  private readonly clock: Clock;
  private readonly epochSeconds: number;

  /** Reserves, settles and voids share one group commit, so that concurrent calls keep the order they came in. */
  private readonly hot: Batcher<HotOp, HotResult>;

  constructor(sql: Sql, clock: Clock, epochSeconds: number, instanceId: string) {
    this.instanceId = instanceId;
    this.sql = sql;
    this.clock = clock;
    this.epochSeconds = epochSeconds;
    this.hot = new Batcher(
      (op) => this.runOne(op),
      (ops) => this.runBatch(ops),
    );
  }

  async createAccount(input: { id?: string; name?: string | null } = {}): Promise<Account> {
    const account: Account = { id: input.id ?? randomUUID(), name: input.name ?? null, createdAtMs: this.clock() };
    await this.sql.begin(async (tx) => {
      const inserted = await tx`INSERT INTO accounts (id, name, created_at_ms)
        VALUES (${account.id}, ${account.name}, ${account.createdAtMs}) ON CONFLICT DO NOTHING RETURNING id`;
      if (inserted.length === 0) throw new ConflictError(`account ${account.id} exists`, { code: 'account_exists' });
      await tx`INSERT INTO balances (account_id, source, available_nano, reserved_nano)
        VALUES (${account.id}, 'CREDITS', 0, 0), (${account.id}, 'USD', 0, 0)`;
    });
    return account;
  }

  async getAccount(accountId: string): Promise<Account | null> {
    const [row] = await this.sql`SELECT id, name, created_at_ms FROM accounts WHERE id = ${accountId}`;
    return row ? { id: row.id, name: row.name ?? null, createdAtMs: Number(row.created_at_ms) } : null;
  }

  async linkWallet(accountId: string, address: string): Promise<void> {
    const wallet = normaliseWallet(address);
    await this.requireAccount(accountId);
    await this
      .sql`INSERT INTO wallets (address, account_id, linked_at_ms) VALUES (${wallet}, ${accountId}, ${this.clock()})
      ON CONFLICT DO NOTHING`;
    const [owner] = await this.sql`SELECT account_id FROM wallets WHERE address = ${wallet}`;
    if (owner?.account_id !== accountId) {
      throw new ConflictError('wallet is linked to another account', { code: 'wallet_linked', param: 'address' });
    }
  }

  async accountByWallet(address: string): Promise<Account | null> {
    const [owner] = await this.sql`SELECT account_id FROM wallets WHERE address = ${normaliseWallet(address)}`;
    return owner ? this.getAccount(owner.account_id) : null;
  }

  async listWallets(): Promise<{ accountId: string; address: string }[]> {
    const rows = await this.sql`SELECT address, account_id FROM wallets ORDER BY linked_at_ms, address`;
    return rows.map((row) => ({ accountId: row.account_id as string, address: row.address as string }));
  }

  async walletsOfAccount(accountId: string): Promise<WalletLink[]> {
    const rows = await this.sql`SELECT address, account_id, linked_at_ms FROM wallets WHERE account_id = ${accountId}
      ORDER BY linked_at_ms, address`;
    return rows.map((row) => ({
      address: row.address as string,
      accountId: row.account_id as string,
      linkedAtMs: Number(row.linked_at_ms),
    }));
  }

  async createKey(input: CreateKeyInput): Promise<CreatedKey> {
    validateKeyInput(input);
    await this.requireAccount(input.accountId);
    const secret = generateSecret();
    const id = randomUUID();
    await this.sql.begin(async (tx) => {
      const [rpm, tpm] = rateLimitColumns(input.rateLimits ?? null);
      await tx`INSERT INTO api_keys (id, account_id, kind, name, secret_hash, secret_prefix, secret_last6, created_at_ms,
          expires_at_ms, allowed_models, rpm_limit, tpm_limit)
        VALUES (${id}, ${input.accountId}, ${input.kind}, ${input.name}, ${hashSecret(secret)}, ${displayPrefixOf(secret)},
          ${secretLast6Of(secret)}, ${this.clock()}, ${input.expiresAtMs ?? null}, ${input.allowedModels ?? null}, ${rpm},
          ${tpm})`;
      await writeLimits(tx as unknown as Sql, id, input.limits ?? []);
    });
    return { key: (await this.getKey(id))!, secret };
  }

  async authenticate(secret: string): Promise<ApiKey> {
    const [row] = await this.sql`SELECT * FROM api_keys WHERE secret_hash = ${hashSecret(secret)}`;
    if (!row) throw new AuthenticationError('invalid API key', { code: 'invalid_api_key' });
    const key = await this.keyFromRow(row);
    return checkKeyUsable(key, key.accountId, null, this.clock());
  }

  async getKey(keyId: string): Promise<ApiKey | null> {
    const [row] = await this.sql`SELECT * FROM api_keys WHERE id = ${keyId}`;
    return row ? this.keyFromRow(row) : null;
  }

  async listKeys(accountId: string): Promise<ApiKey[]> {
    const rows = await this.sql`SELECT * FROM api_keys WHERE account_id = ${accountId} ORDER BY created_at_ms, id`;
    return Promise.all(rows.map((row) => this.keyFromRow(row)));
  }

  async updateKey(keyId: string, patch: UpdateKeyInput): Promise<ApiKey> {
    validateKeyInput(patch);
    // A limits change that recounts a key's spend may meet a group-commit batch in a deadlock (see recountKeySpend);
    // PostgreSQL aborts one of the two, and this transaction is simply tried again.
    await retryOnDeadlock(() =>
      this.sql.begin(async (tx) => {
        const [row] = await tx`SELECT * FROM api_keys WHERE id = ${keyId} FOR UPDATE`;
        if (!row) throw new NotFoundError('API key not found', { code: 'key_not_found' });
        const [rpm, tpm] =
          patch.rateLimits === undefined ? [row.rpm_limit, row.tpm_limit] : rateLimitColumns(patch.rateLimits);
        await tx`UPDATE api_keys SET
          name = ${patch.name ?? row.name},
          expires_at_ms = ${patch.expiresAtMs === undefined ? row.expires_at_ms : patch.expiresAtMs},
          allowed_models = ${patch.allowedModels === undefined ? row.allowed_models : patch.allowedModels},
          rpm_limit = ${rpm}, tpm_limit = ${tpm}
        WHERE id = ${keyId}`;
        if (patch.limits) {
          const [had] = await tx`SELECT 1 FROM key_limits WHERE key_id = ${keyId} LIMIT 1`;
          await writeLimits(tx as unknown as Sql, keyId, patch.limits);
          const hasLimits = patch.limits.length > 0;
          if ((had !== undefined) !== hasLimits) {
            const now = this.clock();
            await recountKeySpend(tx as unknown as Sql, {
              keyId,
              accountId: row.account_id as string,
              counted: hasLimits,
              epoch: epochAt(now, this.epochSeconds),
              month: monthAt(now),
            });
          }
        }
      }),
    );
    return (await this.getKey(keyId))!;
  }

  async revokeKey(keyId: string): Promise<ApiKey> {
    const updated = await this.sql`UPDATE api_keys SET revoked_at_ms = coalesce(revoked_at_ms, ${this.clock()})
      WHERE id = ${keyId} RETURNING id`;
    if (updated.length === 0) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    return (await this.getKey(keyId))!;
  }

  async setDiemAllowance(accountId: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    validateAllowance(epoch, allowanceNano);
    await this.requireAccount(accountId);
    const now = this.clock();
    await this.sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = on`;
      const row = await lockDiemRow(tx as unknown as Sql, accountId, epoch);
      await writeDiemAllowance(tx as unknown as Sql, { accountId, epoch, row, directNano: allowanceNano, now });
    });
  }

  async setWalletAllowance(address: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    const wallet = normaliseWallet(address);
    validateAllowance(epoch, allowanceNano);
    const now = this.clock();
    await this.sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = on`;
      // Wallets are never relinked, so the owner read here stays the owner.
      const [owner] = await tx`SELECT account_id FROM wallets WHERE address = ${wallet}`;
      if (!owner) throw walletNotLinked();
      const accountId = owner.account_id as string;
      // The account's DIEM row is locked before the wallet's row is written: two wallets of one account written at
      // once are serialised there, so each sum includes the other's committed row.
      const row = await lockDiemRow(tx as unknown as Sql, accountId, epoch);
      await tx`INSERT INTO wallet_allowances (address, epoch, allowance_nano) VALUES (${wallet}, ${epoch}, ${allowanceNano})
        ON CONFLICT (address, epoch) DO UPDATE SET allowance_nano = excluded.allowance_nano`;
      await writeDiemAllowance(tx as unknown as Sql, { accountId, epoch, row, directNano: null, now });
    });
  }

  async allowanceSnapshotBlock(epoch: number): Promise<bigint | null> {
    const [row] = await this.sql`SELECT block_number FROM allowance_snapshots WHERE epoch = ${epoch}`;
    return row ? BigInt(row.block_number as string) : null;
  }

  async claimAllowanceSnapshotBlock(epoch: number, blockNumber: bigint): Promise<bigint> {
    validateSnapshotBlock(epoch, blockNumber);
    // Durable before it returns, as an allowance is: a snapshot forgotten in a crash would let the next feed take
    // another. A claim that meets a row waits for its writer to commit; the read after it is a new statement, with a
    // new snapshot (READ COMMITTED) that sees that row.
    return this.sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = on`;
      const [won] = await tx`INSERT INTO allowance_snapshots (epoch, block_number, claimed_at_ms)
        VALUES (${epoch}, ${blockNumber}, ${this.clock()}) ON CONFLICT (epoch) DO NOTHING RETURNING block_number`;
      if (won) return BigInt(won.block_number as string);
      const [stored] = await tx`SELECT block_number FROM allowance_snapshots WHERE epoch = ${epoch}`;
      return BigInt(stored!.block_number as string);
    }) as Promise<bigint>;
  }

  async addFunds(input: Parameters<Ledger['addFunds']>[0]): Promise<boolean> {
    if (input.amountNano <= 0n) throw new RangeError('funding amount must be positive');
    await this.requireAccount(input.accountId);
    const now = this.clock();
    return this.sql.begin(async (tx) => {
      const inserted =
        await tx`INSERT INTO funding_references (reference, account_id, source, amount_nano, created_at_ms)
        VALUES (${input.reference}, ${input.accountId}, ${input.source}, ${input.amountNano}, ${now})
        ON CONFLICT DO NOTHING RETURNING reference`;
      if (inserted.length === 0) return false;
      await tx`UPDATE balances SET available_nano = available_nano + ${input.amountNano}
        WHERE account_id = ${input.accountId} AND source = ${input.source}`;
      await journalPair(tx as unknown as Sql, {
        txnId: `funding:${input.reference}`,
        kind: 'FUNDING',
        debit: fundingAccountOf(input.source),
        credit: ledgerAccountOf(input.accountId, input.source, 0),
        amountNano: input.amountNano,
        now,
      });
      return true;
    }) as Promise<boolean>;
  }

  async balance(accountId: string): Promise<Balance> {
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const { balances, diem } = await this.readSources(accountId, epoch);
    const left = diem.allowanceNano - diem.spentNano - diem.reservedNano;
    return {
      accountId,
      epoch,
      nextEpochBegins: nextEpochBegins(now, this.epochSeconds),
      diem: { ...diem, availableNano: left > 0n ? left : 0n },
      credits: balances.CREDITS,
      usd: balances.USD,
    };
  }

  async spendable(input: { accountId: string; keyId: string | null; model?: string }): Promise<Spendable> {
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const { balances, diem } = await this.readSources(input.accountId, epoch);
    const keyHeadroom: KeyHeadroom = input.keyId
      ? await this.keyHeadroom(input.accountId, input.keyId, input.model ?? null, now, epoch, monthAt(now))
      : noKeyHeadroom;
    const available: Record<FundingSource, NanoUsd> = {
      DIEM: diem.allowanceNano - diem.spentNano - diem.reservedNano,
      CREDITS: balances.CREDITS.availableNano,
      USD: balances.USD.availableNano,
    };
    const sources = headroomsOf(available, keyHeadroom);
    let best = sources[0]!;
    for (const s of sources) if (s.headroomNano > best.headroomNano) best = s;
    return { sources, maxNano: best.headroomNano, source: best.headroomNano > 0n ? best.source : null };
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const { amountNano, minAmountNano, ttlMs, requestId, requestHash } = validateReserveInput(input);
    const now = this.clock();
    return this.hot.run({
      kind: 'reserve',
      call: {
        id: timeOrderedHex(now),
        input,
        requestId,
        requestHash,
        amountNano,
        minAmountNano,
        now,
        expiresAtMs: now + ttlMs,
        epoch: epochAt(now, this.epochSeconds),
        month: monthAt(now),
      },
    }) as Promise<ReserveResult>;
  }

  private async reserveOne(call: ReserveCall): Promise<ReserveResult> {
    const { input } = call;
    try {
      const [row] = await mapped(
        () => this.sql`SELECT * FROM perdiem_reserve(${call.id}, ${input.accountId}, ${input.keyId},
          ${input.idempotencyKey}, ${call.requestId}, ${call.requestHash}, ${this.instanceId}, ${input.model},
          ${call.amountNano}, ${call.minAmountNano}, ${call.now}, ${call.expiresAtMs}, ${call.epoch}, ${call.month})`,
      );
      return reserveResultOf(row!);
    } catch (error) {
      if (!(error instanceof InsufficientFundsError) || error.code !== 'key_limit_exceeded') throw error;
      throw await this.keyLimitRefusal(call);
    }
  }

  /**
   * The 402 of a reserve that the balance covers but the key's limits do not, naming the limits that stop it (read
   * after the refusal: it explains, it decides nothing).
   */
  private async keyLimitRefusal(call: ReserveCall): Promise<InsufficientFundsError> {
    const { balances, diem } = await this.readSources(call.input.accountId, call.epoch);
    const usage = await this.limitUsage(call.input.keyId!, call.epoch, call.month);
    const available: Record<FundingSource, NanoUsd> = {
      DIEM: diem.allowanceNano - diem.spentNano - diem.reservedNano,
      CREDITS: balances.CREDITS.availableNano,
      USD: balances.USD.availableNano,
    };
    return keyLimitExceededError(usage, available, call.amountNano, call.minAmountNano);
  }

  async settle(input: SettleInput): Promise<SettleResult> {
    validateSettleInput(input);
    return this.hot.run({ kind: 'settle', call: { input, now: this.clock() } }) as Promise<SettleResult>;
  }

  private async settleOne({ input, now }: SettleCall): Promise<SettleResult> {
    const lines = input.lines;
    const [row] = await mapped(
      () => this.sql`SELECT * FROM perdiem_settle(${input.reservationId}, ${now},
        ${lines.map((l) => l.sku)}::text[], ${lines.map((l) => String(l.units))}::bigint[],
        ${lines.map((l) => l.unitPriceNano.toString())}::bigint[], ${lines.map((l) => String(l.priceUnit))}::bigint[],
        ${lines.map((l) => l.amountNano.toString())}::bigint[], ${input.latencyMs}::integer,
        ${input.response ?? null}::text)`,
    );
    return { reservation: toReservation(row!), replayed: row!.replayed as boolean };
  }

  /** Many hot-path operations in one call and one transaction (see perdiem_batch); results in call order. */
  private async runBatch(ops: HotOp[]): Promise<HotResult[]> {
    const reserve = (op: HotOp) => (op.kind === 'reserve' ? op.call : null);
    const lines = ops.flatMap((op) => (op.kind === 'settle' ? op.call.input.lines : []));
    const text = (f: (op: HotOp) => string | null | undefined) => ops.map((op) => f(op) ?? null);
    const big = (f: (op: HotOp) => bigint | number | null | undefined) =>
      ops.map((op) => {
        const value = f(op);
        return value === null || value === undefined ? null : String(value);
      });
    const rows = await this.sql`SELECT * FROM perdiem_batch(
      ${ops.map((op) => kindCode[op.kind])}::text[],
      ${text((op) => (op.kind === 'reserve' ? op.call.id : op.kind === 'settle' ? op.call.input.reservationId : op.id))}::text[],
      ${text((op) => reserve(op)?.input.accountId)}::text[], ${text((op) => reserve(op)?.input.keyId)}::text[],
      ${text((op) => reserve(op)?.input.idempotencyKey)}::text[], ${text((op) => reserve(op)?.requestId)}::text[],
      ${text((op) => reserve(op)?.requestHash)}::text[], ${this.instanceId}::text,
      ${text((op) => reserve(op)?.input.model)}::text[],
      ${big((op) => reserve(op)?.amountNano)}::bigint[], ${big((op) => reserve(op)?.minAmountNano)}::bigint[],
      ${big((op) => (op.kind === 'void' ? op.now : op.call.now))}::bigint[],
      ${big((op) => reserve(op)?.expiresAtMs)}::bigint[], ${big((op) => reserve(op)?.epoch)}::bigint[],
      ${text((op) => reserve(op)?.month)}::text[],
      ${ops.map((op) => (op.kind === 'settle' ? op.call.input.lines.length : 0))}::integer[],
      ${lines.map((l) => l.sku)}::text[], ${lines.map((l) => String(l.units))}::bigint[],
      ${lines.map((l) => l.unitPriceNano.toString())}::bigint[], ${lines.map((l) => String(l.priceUnit))}::bigint[],
      ${lines.map((l) => l.amountNano.toString())}::bigint[],
      ${ops.map((op) => (op.kind === 'settle' ? op.call.input.latencyMs : null))}::integer[],
      ${text((op) => (op.kind === 'settle' ? op.call.input.response : null))}::text[])`;
    const out: HotResult[] = new Array(ops.length);
    for (const row of rows) {
      const op = ops[Number(row.ord) - 1]!;
      out[Number(row.ord) - 1] =
        op.kind === 'reserve'
          ? reserveResultOf(row)
          : op.kind === 'void'
            ? toReservation(row)
            : { reservation: toReservation(row), replayed: row.replayed as boolean };
    }
    for (let i = 0; i < ops.length; i++)
      if (out[i] === undefined) throw new Error(`batched call ${i + 1} returned no row`);
    return out;
  }

  private runOne(op: HotOp): Promise<HotResult> {
    if (op.kind === 'reserve') return this.reserveOne(op.call);
    if (op.kind === 'settle') return this.settleOne(op.call);
    return this.voidOne(op.id, op.now);
  }

  async void(reservationId: string): Promise<Reservation> {
    return this.hot.run({ kind: 'void', id: reservationId, now: this.clock() }) as Promise<Reservation>;
  }

  private async voidOne(reservationId: string, now: number): Promise<Reservation> {
    const [row] = await mapped(() => this.sql`SELECT * FROM perdiem_finish_unpaid(${reservationId}, ${now}, 'VOIDED')`);
    return toReservation(row!);
  }

  async expireReservations(limit: number = ledgerLimits.expireBatchSizeMax): Promise<number> {
    const now = this.clock();
    const due = await this.sql`SELECT id FROM reservations WHERE status = 'RESERVED' AND expires_at_ms <= ${now}
      ORDER BY expires_at_ms LIMIT ${Math.min(limit, ledgerLimits.expireBatchSizeMax)}`;
    let expired = 0;
    for (const { id } of due) if (await this.finishUnpaid(id, now, 'EXPIRED')) expired++;
    return expired;
  }

  async renewHolds(ttlMs: number): Promise<number> {
    const until = this.clock() + validateHoldTtl(ttlMs);
    // Locked in id order, as a batch locks the reservations it finishes, so that a renewal never deadlocks one.
    const renewed = await this.sql`WITH held AS (SELECT id FROM reservations
        WHERE owner = ${this.instanceId} AND status = 'RESERVED' AND expires_at_ms < ${until} ORDER BY id FOR UPDATE)
      UPDATE reservations r SET expires_at_ms = ${until} FROM held WHERE r.id = held.id`;
    return renewed.count;
  }

  async voidHoldsOfOtherInstances(): Promise<number> {
    const now = this.clock();
    let voided = 0;
    // Pages in id order over what was made until now, so that the walk ends whatever is reserved meanwhile.
    for (let after = ''; ; ) {
      const held = await this.sql`SELECT id FROM reservations
        WHERE status = 'RESERVED' AND (owner IS NULL OR owner <> ${this.instanceId}) AND created_at_ms <= ${now}
          AND id > ${after} ORDER BY id LIMIT ${ledgerLimits.expireBatchSizeMax}`;
      for (const { id } of held) {
        try {
          if (await this.finishUnpaid(id as string, now, 'VOIDED')) voided++;
        } catch (error) {
          // Settled since it was listed: nothing is held any more.
          if (!(error instanceof ConflictError && error.code === 'already_settled')) throw error;
        }
      }
      if (held.length < ledgerLimits.expireBatchSizeMax) return voided;
      after = held.at(-1)!.id as string;
    }
  }

  /**
   * Voids or expires one reservation in its own transaction (the lock order of a settle, so that a sweep never
   * deadlocks a request); false when there was nothing to do.
   */
  private async finishUnpaid(id: string, now: number, status: 'VOIDED' | 'EXPIRED'): Promise<boolean> {
    const [row] = await mapped(() => this.sql`SELECT changed FROM perdiem_finish_unpaid(${id}, ${now}, ${status})`);
    return row?.changed === true;
  }

  async keyLimitUsage(keyId: string): Promise<KeyLimitUsage[]> {
    const [key] = await this.sql`SELECT 1 FROM api_keys WHERE id = ${keyId}`;
    if (!key) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    const now = this.clock();
    return this.limitUsage(keyId, epochAt(now, this.epochSeconds), monthAt(now));
  }

  async getReservation(reservationId: string): Promise<Reservation | null> {
    const [row] = await this.sql`SELECT * FROM reservations WHERE id = ${reservationId}`;
    return row ? toReservation(row) : null;
  }

  async usageHistory(query: UsageQuery): Promise<UsagePage> {
    const limit = pageSizeOf(query.limit);
    const cursor = query.cursor
      ? decodeCursor(query.cursor)
      : { createdAtMs: Number.MAX_SAFE_INTEGER, id: BigInt(Number.MAX_SAFE_INTEGER) };
    const rows = await this.sql`SELECT * FROM usage_records WHERE account_id = ${query.accountId}
      AND (${query.keyId ?? null}::text IS NULL OR key_id = ${query.keyId ?? null})
      AND (${query.model ?? null}::text IS NULL OR model = ${query.model ?? null})
      AND created_at_ms >= ${query.fromMs ?? 0} AND created_at_ms < ${query.toMs ?? Number.MAX_SAFE_INTEGER}
      AND (created_at_ms, id) < (${cursor.createdAtMs}::bigint, ${cursor.id}::bigint)
      ORDER BY created_at_ms DESC, id DESC LIMIT ${limit + 1}`;
    const items = rows.slice(0, limit).map(toUsage);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAtMs, last.id) : null };
  }

  async usageAnalytics(query: {
    accountId: string | null;
    fromMs: number;
    toMs: number;
    keyId?: string;
  }): Promise<UsageAnalytics> {
    const run = async (group: string): Promise<AnalyticsRow[]> => {
      const rows = await this.sql.unsafe(
        // Two shapes, so that an account's query keeps using the (account_id, created_at_ms) index.
        `SELECT ${group} AS grp, currency, sum(amount_nano)::text AS amount, count(DISTINCT reservation_id) AS requests,
          sum(units)::text AS units FROM usage_records WHERE ${query.accountId === null ? '$1::text IS NULL' : 'account_id = $1'}
          AND created_at_ms >= $2 AND created_at_ms < $3 AND ($4::text IS NULL OR key_id = $4) GROUP BY 1, 2`,
        [query.accountId, query.fromMs, query.toMs, query.keyId ?? null],
      );
      const out = rows.map((row) => ({
        group: row.grp as string,
        currency: row.currency as AnalyticsRow['currency'],
        amountNano: BigInt(row.amount as string),
        requests: Number(row.requests),
        units: Number(row.units),
      }));
      // Byte order, as SQLite sorts: independent of the database collation.
      return out.sort((a, b) => (a.group === b.group ? cmp(a.currency, b.currency) : cmp(a.group, b.group)));
    };
    return {
      byDay: await run(`to_char(to_timestamp(created_at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`),
      byModel: await run('model'),
      byKey: await run(`coalesce(key_id, '')`),
    };
  }

  async fundings(input: { accountId: string; source?: 'CREDITS' | 'USD'; limit?: number }): Promise<Funding[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    const rows = await this.sql`SELECT reference, source, amount_nano::text AS amount, created_at_ms
      FROM funding_references WHERE account_id = ${input.accountId}
      AND (${input.source ?? null}::text IS NULL OR source = ${input.source ?? null})
      ORDER BY created_at_ms DESC, reference LIMIT ${limit}`;
    return rows.map((row) => ({
      reference: row.reference as string,
      source: row.source as Funding['source'],
      amountNano: BigInt(row.amount as string),
      createdAtMs: Number(row.created_at_ms),
    }));
  }

  async journal(input: { afterId?: string | null; limit?: number } = {}): Promise<JournalEntry[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    const rows = await this.sql`SELECT * FROM journal_entries WHERE id > ${BigInt(input.afterId ?? 0)}
      ORDER BY id LIMIT ${limit}`;
    return rows.map((row) => ({
      id: String(row.id),
      txnId: row.txn_id,
      kind: row.kind,
      ledgerAccount: row.ledger_account,
      side: row.side,
      amountNano: row.amount_nano as bigint,
      reservationId: row.reservation_id ?? null,
      createdAtMs: Number(row.created_at_ms),
    }));
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  private async requireAccount(accountId: string): Promise<void> {
    const [row] = await this.sql`SELECT 1 FROM accounts WHERE id = ${accountId}`;
    if (!row) throw new NotFoundError('account not found', { code: 'account_not_found' });
  }

  private async readSources(accountId: string, epoch: number) {
    const rows = await this.sql`SELECT source, available_nano, reserved_nano, NULL::bigint AS allowance_nano
        FROM balances WHERE account_id = ${accountId}
      UNION ALL SELECT 'DIEM', spent_nano, reserved_nano, allowance_nano
        FROM diem_allowances WHERE account_id = ${accountId} AND epoch = ${epoch}`;
    const balances = { CREDITS: { availableNano: 0n, reservedNano: 0n }, USD: { availableNano: 0n, reservedNano: 0n } };
    const diem = { allowanceNano: 0n, spentNano: 0n, reservedNano: 0n };
    if (rows.length === 0) throw new NotFoundError('account not found', { code: 'account_not_found' });
    for (const row of rows) {
      if (row.source === 'DIEM') {
        Object.assign(diem, {
          allowanceNano: row.allowance_nano,
          spentNano: row.available_nano,
          reservedNano: row.reserved_nano,
        });
      } else {
        balances[row.source as 'CREDITS' | 'USD'] = {
          availableNano: row.available_nano,
          reservedNano: row.reserved_nano,
        };
      }
    }
    return { balances, diem };
  }

  private async keyHeadroom(
    accountId: string,
    keyId: string,
    model: string | null,
    now: number,
    epoch: number,
    month: string,
  ): Promise<KeyHeadroom> {
    const key = checkKeyUsable(await this.getKey(keyId), accountId, model, now);
    if (key.limits.length === 0) return noKeyHeadroom;
    const usage = await this.limitUsage(keyId, epoch, month);
    return keyHeadroomOf(usage.map((limit) => ({ limit, usedNano: limit.spentNano + limit.reservedNano })));
  }

  /** Each limit of the key (in the order of `ApiKey.limits`) with its counter in the period of (epoch, month). */
  private async limitUsage(keyId: string, epoch: number, month: string): Promise<KeyLimitUsage[]> {
    const rows = await this.sql`SELECT l.currency, l.period, l.amount_nano, s.spent_nano, s.reserved_nano
      FROM key_limits l LEFT JOIN key_spend s ON s.key_id = l.key_id AND s.currency = l.currency
        AND s.period_key = CASE l.period WHEN 'EPOCH' THEN ${periodKeyOf('EPOCH', epoch, month)}
          WHEN 'MONTH' THEN ${periodKeyOf('MONTH', epoch, month)} ELSE 'LIFETIME' END
      WHERE l.key_id = ${keyId} ORDER BY l.currency, l.period`;
    return rows.map((row) => {
      const limit: KeyLimit = {
        currency: row.currency as KeyLimit['currency'],
        period: row.period as KeyLimit['period'],
        amountNano: row.amount_nano as bigint,
      };
      return keyLimitUsageOf(
        limit,
        periodKeyOf(limit.period, epoch, month),
        (row.spent_nano as bigint | null) ?? 0n,
        (row.reserved_nano as bigint | null) ?? 0n,
      );
    });
  }

  private async keyFromRow(row: Row): Promise<ApiKey> {
    const limits = await this
      .sql`SELECT currency, period, amount_nano FROM key_limits WHERE key_id = ${row.id as string}
      ORDER BY currency, period`;
    return toApiKey(row, (row.allowed_models as string[] | null) ?? null, limits);
  }
}

/**
 * A key's spend is counted (key_spend rows, and `counted` on its live reservations) exactly while it has limits:
 * most keys have none, and counting costs every reserve and settle six row writes. A key that gains limits has its
 * counters rebuilt from its reservations in the same transaction, so a limit still sees what the key spent before it
 * and what it holds now; a key that loses them drops its counters.
 *
 * Locks follow the order of the header of functions.ts: the key's live reservations (id order), so that no settle,
 * void or expiry moves them meanwhile; then the account mutex, so that no reserve of the account reads the old
 * limits after this rebuild; then, again, reservations that reserves committed between the two.
 */
async function recountKeySpend(
  tx: Sql,
  key: { keyId: string; accountId: string; counted: boolean; epoch: number; month: string },
): Promise<void> {
  const lockLive = () => tx`SELECT id FROM reservations
    WHERE account_id = ${key.accountId} AND key_id = ${key.keyId} AND status = 'RESERVED' ORDER BY id FOR UPDATE`;
  await lockLive();
  await tx`SELECT 1 FROM balances WHERE account_id = ${key.accountId} AND source = 'CREDITS' FOR UPDATE`;
  await lockLive();
  await tx`DELETE FROM key_spend WHERE key_id = ${key.keyId}`;
  await tx`UPDATE reservations SET counted = ${key.counted}
    WHERE account_id = ${key.accountId} AND key_id = ${key.keyId} AND status = 'RESERVED'`;
  if (!key.counted) return;
  // What settled counts in the current periods; what is held counts in the periods it was reserved in, which its
  // settle will move. Each reservation counts in its source's class and in TOTAL.
  await tx`WITH r AS (
      SELECT c.currency, epoch, month, status,
        CASE status WHEN 'SETTLED' THEN charged_nano ELSE 0 END AS spent,
        CASE status WHEN 'RESERVED' THEN amount_nano ELSE 0 END AS held
      FROM reservations
        CROSS JOIN LATERAL (VALUES (CASE source WHEN 'DIEM' THEN 'DIEM' ELSE 'USD' END), ('TOTAL')) AS c (currency)
      WHERE account_id = ${key.accountId} AND key_id = ${key.keyId} AND status IN ('RESERVED', 'SETTLED'))
    INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
    SELECT ${key.keyId}, currency, period_key, sum(spent), sum(held) FROM (
      SELECT currency, 'EPOCH:' || epoch AS period_key, spent, held FROM r
        WHERE epoch = ${key.epoch} OR status = 'RESERVED'
      UNION ALL SELECT currency, 'MONTH:' || month, spent, held FROM r WHERE month = ${key.month} OR status = 'RESERVED'
      UNION ALL SELECT currency, 'LIFETIME', spent, held FROM r) counted
    GROUP BY currency, period_key`;
}

/**
 * A perdiem_reserve row: the reservation, and what each source has left after its hold; for a replay, the answer
 * stored with the earlier attempt's settle instead.
 */
function reserveResultOf(row: Row): ReserveResult {
  const result: ReserveResult = { reservation: toReservation(row), replayed: row.replayed as boolean };
  if (result.replayed) result.response = (row.response as string | null) ?? null;
  if (row.available_diem !== null && row.available_diem !== undefined) {
    result.available = {
      DIEM: row.available_diem as bigint,
      CREDITS: row.available_credits as bigint,
      USD: row.available_usd as bigint,
    };
  }
  return result;
}

async function retryOnDeadlock<T>(transaction: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= attempts) throw error;
    }
  }
}

function rateLimitColumns(rateLimits: KeyRateLimits | null): [number | null, number | null] {
  return [rateLimits?.requestsPerMinute ?? null, rateLimits?.tokensPerMinute ?? null];
}

async function writeLimits(tx: Sql, keyId: string, limits: KeyLimit[]): Promise<void> {
  await tx`DELETE FROM key_limits WHERE key_id = ${keyId}`;
  for (const limit of limits) {
    await tx`INSERT INTO key_limits (key_id, currency, period, amount_nano)
      VALUES (${keyId}, ${limit.currency}, ${limit.period}, ${limit.amountNano})`;
  }
}

/** The account's DIEM row for the epoch, created at zero when missing, locked for the transaction. */
async function lockDiemRow(tx: Sql, accountId: string, epoch: number) {
  await tx`INSERT INTO diem_allowances (account_id, epoch, allowance_nano, spent_nano, reserved_nano)
    VALUES (${accountId}, ${epoch}, 0, 0, 0) ON CONFLICT DO NOTHING`;
  const [row] = await tx`SELECT allowance_nano, direct_nano FROM diem_allowances
    WHERE account_id = ${accountId} AND epoch = ${epoch} FOR UPDATE`;
  return { allowanceNano: row!.allowance_nano as bigint, directNano: row!.direct_nano as bigint };
}

/**
 * Sets the account's allowance for the epoch (its DIEM row, locked by `lockDiemRow`) to its direct part (the given
 * one, or the stored one when null) plus its wallets' sum, and journals the change.
 */
async function writeDiemAllowance(
  tx: Sql,
  input: {
    accountId: string;
    epoch: number;
    row: { allowanceNano: NanoUsd; directNano: NanoUsd };
    directNano: NanoUsd | null;
    now: number;
  },
): Promise<void> {
  const { accountId, epoch, row } = input;
  const direct = input.directNano ?? row.directNano;
  const [wallets] = await tx`SELECT coalesce(sum(a.allowance_nano), 0)::bigint AS total FROM wallets w
    JOIN wallet_allowances a ON a.address = w.address AND a.epoch = ${epoch} WHERE w.account_id = ${accountId}`;
  const after = direct + (wallets!.total as bigint);
  if (after === row.allowanceNano && direct === row.directNano) return;
  await tx`UPDATE diem_allowances SET allowance_nano = ${after}, direct_nano = ${direct}
    WHERE account_id = ${accountId} AND epoch = ${epoch}`;
  if (after === row.allowanceNano) return;
  const grant = after > row.allowanceNano;
  const [external, own] = [fundingAccountOf('DIEM'), ledgerAccountOf(accountId, 'DIEM', epoch)];
  await journalPair(tx, {
    txnId: `allowance:${randomUUID()}`,
    kind: 'ALLOWANCE',
    debit: grant ? external : own,
    credit: grant ? own : external,
    amountNano: grant ? after - row.allowanceNano : row.allowanceNano - after,
    now: input.now,
  });
}

async function journalPair(
  tx: Sql,
  entry: { txnId: string; kind: JournalEntry['kind']; debit: string; credit: string; amountNano: NanoUsd; now: number },
): Promise<void> {
  await tx`INSERT INTO journal_entries (txn_id, kind, ledger_account, side, amount_nano, reservation_id, created_at_ms)
    VALUES (${entry.txnId}, ${entry.kind}, ${entry.debit}, 'DEBIT', ${entry.amountNano}, NULL, ${entry.now}),
      (${entry.txnId}, ${entry.kind}, ${entry.credit}, 'CREDIT', ${entry.amountNano}, NULL, ${entry.now})`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
