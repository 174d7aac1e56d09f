/** Accounts, wallets and keys on PostgreSQL: short transactions, off the metering hot path. */
import { randomUUID } from 'node:crypto';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { AuthenticationError, ConflictError, NotFoundError } from '../../core/errors.ts';
import { displayPrefixOf, generateSecret, hashSecret, secretLast6Of } from '../apiKeySecret.ts';
import { recountKeySpend } from '../metering/postgresKeySpend.ts';
import { retryOnDeadlock } from '../postgres/dbErrors.ts';
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import { type Row, toApiKey } from '../rows.ts';
import { checkKeyUsable, normaliseWallet, validateKeyInput } from './accountRules.ts';
import type {
  Account,
  AccountsLedger,
  ApiKey,
  CreatedKey,
  CreateKeyInput,
  KeyLimit,
  KeyRateLimits,
  UpdateKeyInput,
  WalletLink,
} from './accountsLedger.ts';

export class PostgresAccounts implements AccountsLedger {
  private readonly storage: LedgerStorage;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
  }

  private get sql(): Sql {
    return this.storage.sql;
  }

  async createAccount(input: { id?: string; name?: string | null } = {}): Promise<Account> {
    const account: Account = {
      id: input.id ?? randomUUID(),
      name: input.name ?? null,
      createdAtMs: this.storage.clock(),
    };
    await this.sql.begin((tx) => insertAccountRows(tx as unknown as Sql, account));
    return account;
  }

  async getAccount(accountId: string): Promise<Account | null> {
    const [row] = await this.sql`SELECT id, name, created_at_ms FROM accounts WHERE id = ${accountId}`;
    return row ? { id: row.id, name: row.name ?? null, createdAtMs: Number(row.created_at_ms) } : null;
  }

  async linkWallet(accountId: string, address: string): Promise<void> {
    const wallet = normaliseWallet(address);
    await requireAccount(this.sql, accountId);
    await this.sql`INSERT INTO wallets (address, account_id, linked_at_ms)
      VALUES (${wallet}, ${accountId}, ${this.storage.clock()}) ON CONFLICT DO NOTHING`;
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
    await requireAccount(this.sql, input.accountId);
    const secret = generateSecret();
    const id = randomUUID();
    await this.sql.begin((tx) =>
      insertKeyRows(tx as unknown as Sql, { id, secret, input, nowMs: this.storage.clock() }),
    );
    return { key: (await this.getKey(id))!, secret };
  }

  async authenticate(secret: string): Promise<ApiKey> {
    const [row] = await this.sql`SELECT * FROM api_keys WHERE secret_hash = ${hashSecret(secret)}`;
    if (!row) throw new AuthenticationError('invalid API key', { code: 'invalid_api_key' });
    const key = await keyFromRow(this.sql, row);
    return checkKeyUsable(key, key.accountId, null, this.storage.clock());
  }

  getKey(keyId: string): Promise<ApiKey | null> {
    return readKey(this.sql, keyId);
  }

  async listKeys(accountId: string): Promise<ApiKey[]> {
    const rows = await this.sql`SELECT * FROM api_keys WHERE account_id = ${accountId} ORDER BY created_at_ms, id`;
    return Promise.all(rows.map((row) => keyFromRow(this.sql, row)));
  }

  async updateKey(keyId: string, patch: UpdateKeyInput): Promise<ApiKey> {
    validateKeyInput(patch);
    // A limits change that recounts a key's spend may meet a group-commit batch in a deadlock (see recountKeySpend);
    // PostgreSQL aborts one of the two, and this transaction is simply tried again.
    await retryOnDeadlock(() => this.sql.begin((tx) => this.updateKeyIn(tx as unknown as Sql, keyId, patch)));
    return (await this.getKey(keyId))!;
  }

  private async updateKeyIn(tx: Sql, keyId: string, patch: UpdateKeyInput): Promise<void> {
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
    if (!patch.limits) return;
    const [had] = await tx`SELECT 1 FROM key_limits WHERE key_id = ${keyId} LIMIT 1`;
    await writeLimits(tx, keyId, patch.limits);
    const hasLimits = patch.limits.length > 0;
    if ((had !== undefined) === hasLimits) return;
    const now = this.storage.clock();
    await recountKeySpend(tx, {
      keyId,
      accountId: row.account_id as string,
      counted: hasLimits,
      epoch: epochAt(now, this.storage.epochSeconds),
      month: monthAt(now),
    });
  }

  async revokeKey(keyId: string): Promise<ApiKey> {
    const updated = await this.sql`UPDATE api_keys SET revoked_at_ms = coalesce(revoked_at_ms, ${this.storage.clock()})
      WHERE id = ${keyId} RETURNING id`;
    if (updated.length === 0) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    return (await this.getKey(keyId))!;
  }
}

/** Inserts an account with its empty balances, in the caller's transaction (teams/ opens funding accounts so). */
export async function insertAccountRows(tx: Sql, account: Account): Promise<void> {
  const inserted = await tx`INSERT INTO accounts (id, name, created_at_ms)
    VALUES (${account.id}, ${account.name}, ${account.createdAtMs}) ON CONFLICT DO NOTHING RETURNING id`;
  if (inserted.length === 0) throw new ConflictError(`account ${account.id} exists`, { code: 'account_exists' });
  await tx`INSERT INTO balances (account_id, source, available_nano, reserved_nano)
    VALUES (${account.id}, 'CREDITS', 0, 0), (${account.id}, 'USD', 0, 0)`;
}

/** Inserts a validated key of an existing account, in a project for a member when `project` is given. */
export async function insertKeyRows(
  tx: Sql,
  key: {
    id: string;
    secret: string;
    input: CreateKeyInput;
    nowMs: number;
    project?: { projectId: string; memberAccountId: string };
  },
): Promise<void> {
  const { id, secret, input } = key;
  const [rpm, tpm] = rateLimitColumns(input.rateLimits ?? null);
  await tx`INSERT INTO api_keys (id, account_id, kind, name, secret_hash, secret_prefix, secret_last6, created_at_ms,
      expires_at_ms, allowed_models, rpm_limit, tpm_limit, project_id, member_account_id)
    VALUES (${id}, ${input.accountId}, ${input.kind}, ${input.name}, ${hashSecret(secret)}, ${displayPrefixOf(secret)},
      ${secretLast6Of(secret)}, ${key.nowMs}, ${input.expiresAtMs ?? null}, ${input.allowedModels ?? null},
      ${rpm}, ${tpm}, ${key.project?.projectId ?? null}, ${key.project?.memberAccountId ?? null})`;
  await writeLimits(tx, id, input.limits ?? []);
}

/** NotFoundError (`account_not_found`) unless the account exists. */
export async function requireAccount(sql: Sql, accountId: string): Promise<void> {
  const [row] = await sql`SELECT 1 FROM accounts WHERE id = ${accountId}`;
  if (!row) throw new NotFoundError('account not found', { code: 'account_not_found' });
}

export async function readKey(sql: Sql, keyId: string): Promise<ApiKey | null> {
  const [row] = await sql`SELECT * FROM api_keys WHERE id = ${keyId}`;
  return row ? keyFromRow(sql, row) : null;
}

async function keyFromRow(sql: Sql, row: Row): Promise<ApiKey> {
  const limits = await sql`SELECT currency, period, amount_nano FROM key_limits WHERE key_id = ${row.id as string}
    ORDER BY currency, period`;
  return toApiKey(row, (row.allowed_models as string[] | null) ?? null, limits);
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
