/** The SQLite adapter of accounts, wallets and keys. Its writes are admin operations: each runs at once (`tx`). */
import { randomUUID } from 'node:crypto';
import { type Clock, epochAt, monthAt } from '../../core/epoch.ts';
import { AuthenticationError, ConflictError, NotFoundError } from '../../core/errors.ts';
import { displayPrefixOf, generateSecret, hashSecret, secretLast6Of } from '../apiKeySecret.ts';
import { type Row, toApiKey } from '../rows.ts';
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { checkKeyUsable, normaliseWallet, validateKeyInput } from './accountRules.ts';
import type {
  Account,
  AccountsLedger,
  ApiKey,
  CreatedKey,
  CreateKeyInput,
  KeyLimit,
  UpdateKeyInput,
  WalletLink,
} from './accountsLedger.ts';
import { modelsFromText, modelsToText, rateLimitColumns } from './sqliteKeyColumns.ts';

const accountsStatements = {
  insertAccount: 'INSERT INTO accounts (id, name, created_at_ms) VALUES (?, ?, ?)',
  insertBalance: 'INSERT INTO balances (account_id, source, available_nano, reserved_nano) VALUES (?, ?, 0, 0)',
  account: 'SELECT id, name, created_at_ms FROM accounts WHERE id = ?',
  insertWallet: 'INSERT INTO wallets (address, account_id, linked_at_ms) VALUES (?, ?, ?)',
  wallet: 'SELECT account_id FROM wallets WHERE address = ?',
  wallets: 'SELECT address, account_id FROM wallets ORDER BY linked_at_ms, address',
  walletsOfAccount: `SELECT address, account_id, linked_at_ms FROM wallets WHERE account_id = ?
    ORDER BY linked_at_ms, address`,
  insertKey: `INSERT INTO api_keys (id, account_id, kind, name, secret_hash, secret_prefix, secret_last6, created_at_ms,
    expires_at_ms, revoked_at_ms, allowed_models, rpm_limit, tpm_limit, project_id, member_account_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
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
  deleteKeySpend: 'DELETE FROM key_spend WHERE key_id = ?',
  // The key's live reservations are counted in its counters exactly while it has limits.
  markCounted: `UPDATE reservations SET counted = ?1
    WHERE account_id = ?2 AND released = 0 AND key_id = ?3 AND status = 'RESERVED'`,
  // A key's class counters rebuilt from its reservations: what settled (in the current periods) and what is held (in the
  // periods it was reserved in, which its settle will move). Read through the idempotency index, which holds every
  // settled and live reservation of the account.
  backfillKeySpend: `WITH r AS (
      SELECT CASE source WHEN 'DIEM' THEN 'DIEM' ELSE 'USD' END AS currency, epoch, month, status,
        CASE status WHEN 'SETTLED' THEN charged_nano ELSE 0 END AS spent,
        CASE status WHEN 'RESERVED' THEN amount_nano ELSE 0 END AS held
      FROM reservations WHERE account_id = ?2 AND released = 0 AND key_id = ?1)
    INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
    SELECT ?1, currency, period_key, sum(spent), sum(held) FROM (
      SELECT currency, 'EPOCH:' || epoch AS period_key, spent, held FROM r WHERE epoch = ?3 OR status = 'RESERVED'
      UNION ALL SELECT currency, 'MONTH:' || month, spent, held FROM r WHERE month = ?4 OR status = 'RESERVED'
      UNION ALL SELECT currency, 'LIFETIME', spent, held FROM r)
    GROUP BY currency, period_key`,
} as const;

export class SqliteAccounts implements AccountsLedger {
  private readonly storage: SqliteStorage;
  private readonly clock: Clock;
  private readonly epochSeconds: number;
  private readonly stmt: PreparedCatalog<typeof accountsStatements>;

  constructor(storage: SqliteStorage, clock: Clock, epochSeconds: number) {
    this.storage = storage;
    this.clock = clock;
    this.epochSeconds = epochSeconds;
    this.stmt = storage.prepare(accountsStatements);
  }

  async createAccount(input: { id?: string; name?: string | null } = {}): Promise<Account> {
    const account: Account = { id: input.id ?? randomUUID(), name: input.name ?? null, createdAtMs: this.clock() };
    this.storage.tx(() => this.insertAccount(account));
    return account;
  }

  async getAccount(accountId: string): Promise<Account | null> {
    const row = this.stmt.account.get(accountId);
    return row ? toAccount(row) : null;
  }

  async linkWallet(accountId: string, address: string): Promise<void> {
    const wallet = normaliseWallet(address);
    this.storage.tx(() => {
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
    const rows = this.stmt.wallets.all();
    return rows.map((row) => ({ accountId: row.account_id as string, address: row.address as string }));
  }

  async walletsOfAccount(accountId: string): Promise<WalletLink[]> {
    return this.stmt.walletsOfAccount.all(accountId).map((row) => ({
      address: row.address as string,
      accountId: row.account_id as string,
      linkedAtMs: Number(row.linked_at_ms),
    }));
  }

  async createKey(input: CreateKeyInput): Promise<CreatedKey> {
    validateKeyInput(input);
    const secret = generateSecret();
    const id = randomUUID();
    this.storage.tx(() => {
      this.requireAccount(input.accountId);
      this.insertKey(id, secret, input, null);
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

  async updateKey(keyId: string, patch: UpdateKeyInput): Promise<ApiKey> {
    validateKeyInput(patch);
    this.storage.tx(() => {
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

  // ── for the other SQLite capabilities, inside their transactions ─────────────────────────────────────────

  requireAccount(accountId: string): void {
    if (!this.stmt.account.get(accountId)) throw new NotFoundError('account not found', { code: 'account_not_found' });
  }

  /** The account a wallet is linked to, or null. */
  accountOfWallet(address: string): string | null {
    const owner = this.stmt.wallet.get(address);
    return owner ? (owner.account_id as string) : null;
  }

  /** Inserts an account with its empty balances (teams/ opens an organization's funding account with it). */
  insertAccount(account: Account): void {
    if (this.stmt.account.get(account.id)) {
      throw new ConflictError(`account ${account.id} exists`, { code: 'account_exists' });
    }
    this.stmt.insertAccount.run(account.id, account.name, account.createdAtMs);
    this.stmt.insertBalance.run(account.id, 'CREDITS');
    this.stmt.insertBalance.run(account.id, 'USD');
  }

  /** Inserts a validated key of an existing account, in a project for a member when `project` is given. */
  insertKey(
    id: string,
    secret: string,
    input: CreateKeyInput,
    project: { projectId: string; memberAccountId: string } | null,
  ): void {
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
      project?.projectId ?? null,
      project?.memberAccountId ?? null,
    );
    this.writeLimits(id, input.accountId, input.limits ?? []);
  }

  readKey(keyId: string): ApiKey | null {
    const row = this.stmt.key.get(keyId);
    return row ? this.keyFromRow(row) : null;
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

  private keyFromRow(row: Row): ApiKey {
    return toApiKey(row, modelsFromText(row.allowed_models), this.stmt.limits.all(row.id as string));
  }
}

function toAccount(row: Row): Account {
  return { id: row.id as string, name: (row.name as string | null) ?? null, createdAtMs: Number(row.created_at_ms) };
}
