/** Accounts, their linked wallets, and API keys with their limits. */
import type { NanoUsd } from '../../core/money.ts';
import type { KeyKind, LimitCurrency, LimitPeriod } from '../vocabulary.ts';

export interface Account {
  id: string;
  name: string | null;
  createdAtMs: number;
}

/** A wallet linked to an account, and when. */
export interface WalletLink {
  /** Lower-cased. */
  address: string;
  accountId: string;
  linkedAtMs: number;
}

export interface KeyLimit {
  currency: LimitCurrency;
  period: LimitPeriod;
  amountNano: NanoUsd;
}

/** A key limit and what the key has used against it in the limit's current period. */
export interface KeyLimitUsage extends KeyLimit {
  /** "EPOCH:20090", "MONTH:2025-01" or "LIFETIME". */
  periodKey: string;
  spentNano: NanoUsd;
  reservedNano: NanoUsd;
  /** max(0, amount - spent - reserved). */
  remainingNano: NanoUsd;
}

/** Per-key rate limits that override the operator's per-key defaults; null fields keep the default. */
export interface KeyRateLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

export interface ApiKey {
  id: string;
  accountId: string;
  kind: KeyKind;
  name: string;
  /** The first characters of the secret, safe to show ("pd_3f9a…"). */
  secretPrefix: string;
  /** The secret's last 6 characters (Venice's `last6Chars`); null for keys made before it was recorded. */
  secretLast6: string | null;
  createdAtMs: number;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  /** null: every model. */
  allowedModels: string[] | null;
  limits: KeyLimit[];
  /** null: the operator's per-key defaults. */
  rateLimits: KeyRateLimits | null;
  /** The project the key belongs to (teams/), whose and whose organization's budgets it spends against; or null. */
  projectId: string | null;
  /** The organization member who made a project key; the key stops when the member is removed. Null otherwise. */
  memberAccountId: string | null;
}

export interface CreateKeyInput {
  accountId: string;
  kind: KeyKind;
  name: string;
  expiresAtMs?: number | null;
  allowedModels?: string[] | null;
  limits?: KeyLimit[];
  rateLimits?: KeyRateLimits | null;
}

/** The only time the secret exists in clear: it is stored as a SHA-256 hash. */
export interface CreatedKey {
  key: ApiKey;
  secret: string;
}

export interface UpdateKeyInput {
  name?: string;
  expiresAtMs?: number | null;
  allowedModels?: string[] | null;
  /** Replaces every limit. Spend already counted in the current periods still counts. */
  limits?: KeyLimit[];
  /** Replaces the key's rate-limit overrides; null returns the key to the operator's defaults. */
  rateLimits?: KeyRateLimits | null;
}

/** Accounts, wallets and keys. */
export interface AccountsLedger {
  createAccount(input?: { id?: string; name?: string | null }): Promise<Account>;
  getAccount(accountId: string): Promise<Account | null>;
  /** Links a wallet (lower-cased address) to an account; a wallet belongs to one account, for good. */
  linkWallet(accountId: string, address: string): Promise<void>;
  accountByWallet(address: string): Promise<Account | null>;
  /** Every linked wallet, oldest link first (the chain side feeds their allowances). */
  listWallets(): Promise<{ accountId: string; address: string }[]>;
  /** The account's linked wallets, oldest link first (ties by address). */
  walletsOfAccount(accountId: string): Promise<WalletLink[]>;
  createKey(input: CreateKeyInput): Promise<CreatedKey>;
  /** The key for a presented secret, or AuthenticationError (unknown, revoked or expired). */
  authenticate(secret: string): Promise<ApiKey>;
  getKey(keyId: string): Promise<ApiKey | null>;
  listKeys(accountId: string): Promise<ApiKey[]>;
  updateKey(keyId: string, patch: UpdateKeyInput): Promise<ApiKey>;
  revokeKey(keyId: string): Promise<ApiKey>;
}
