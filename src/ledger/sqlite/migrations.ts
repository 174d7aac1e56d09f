/**
 * SQLite schema, one migration per entry, applied in order and recorded in `schema_migrations`. Never edit an
 * applied migration: add one. Money columns are INTEGER nano-USD; times are INTEGER unix ms.
 */
import type { SqliteMigration } from './migrate.ts';

export type Migration = SqliteMigration;

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger',
    sql: `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT,
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE wallets (
  address TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  linked_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('INFERENCE', 'ADMIN')),
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  secret_prefix TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER,
  revoked_at_ms INTEGER,
  allowed_models TEXT -- JSON array, NULL for every model
) STRICT;
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE key_limits (
  key_id TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (currency IN ('DIEM', 'USD')),
  period TEXT NOT NULL CHECK (period IN ('EPOCH', 'MONTH', 'LIFETIME')),
  amount_nano INTEGER NOT NULL CHECK (amount_nano >= 0),
  PRIMARY KEY (key_id, currency, period)
) STRICT, WITHOUT ROWID;

-- What each key has spent and holds, per limit currency and period ("EPOCH:20090", "MONTH:2025-01", "LIFETIME").
CREATE TABLE key_spend (
  key_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  period_key TEXT NOT NULL,
  spent_nano INTEGER NOT NULL CHECK (spent_nano >= 0),
  reserved_nano INTEGER NOT NULL CHECK (reserved_nano >= 0),
  PRIMARY KEY (key_id, currency, period_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE balances (
  account_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('CREDITS', 'USD')),
  available_nano INTEGER NOT NULL CHECK (available_nano >= 0),
  reserved_nano INTEGER NOT NULL CHECK (reserved_nano >= 0),
  PRIMARY KEY (account_id, source)
) STRICT, WITHOUT ROWID;

CREATE TABLE diem_allowances (
  account_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  allowance_nano INTEGER NOT NULL CHECK (allowance_nano >= 0),
  spent_nano INTEGER NOT NULL CHECK (spent_nano >= 0),
  reserved_nano INTEGER NOT NULL CHECK (reserved_nano >= 0),
  PRIMARY KEY (account_id, epoch)
) STRICT, WITHOUT ROWID;

CREATE TABLE funding_references (
  reference TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  source TEXT NOT NULL,
  amount_nano INTEGER NOT NULL CHECK (amount_nano > 0),
  created_at_ms INTEGER NOT NULL
) STRICT;

-- Integer ids: appends at the end of the table's B-tree, which keeps the hot path to few pages per commit.
CREATE TABLE reservations (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  key_id TEXT,
  idempotency_key TEXT NOT NULL,
  model TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('DIEM', 'CREDITS', 'USD')),
  epoch INTEGER NOT NULL,
  month TEXT NOT NULL,
  amount_nano INTEGER NOT NULL CHECK (amount_nano >= 0),
  status TEXT NOT NULL CHECK (status IN ('RESERVED', 'SETTLED', 'VOIDED', 'EXPIRED')),
  charged_nano INTEGER CHECK (charged_nano <= amount_nano),
  loss_nano INTEGER,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  -- 1 once voided or expired. The idempotency index keys on this rather than on status, so that a settle (the hot
  -- path) leaves that index alone: its entries sit on one leaf page per account, scattered over the index.
  released INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1))
) STRICT;
-- A retried request finds its live or settled reservation; a voided one frees the key for a new attempt.
CREATE UNIQUE INDEX reservations_idempotency ON reservations (account_id, idempotency_key) WHERE released = 0;
CREATE INDEX reservations_expiry ON reservations (expires_at_ms) WHERE status = 'RESERVED';

CREATE TABLE usage_records (
  id INTEGER PRIMARY KEY,
  reservation_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  key_id TEXT,
  model TEXT NOT NULL,
  sku TEXT NOT NULL,
  units INTEGER NOT NULL,
  unit_price_nano INTEGER NOT NULL,
  price_unit INTEGER NOT NULL,
  list_amount_nano INTEGER NOT NULL,
  amount_nano INTEGER NOT NULL CHECK (amount_nano >= 0 AND amount_nano <= list_amount_nano),
  currency TEXT NOT NULL,
  source TEXT NOT NULL,
  latency_ms INTEGER,
  epoch INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX usage_account_time ON usage_records (account_id, created_at_ms, id);

CREATE TABLE journal_entries (
  id INTEGER PRIMARY KEY,
  txn_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('CHARGE', 'LOSS', 'FUNDING', 'ALLOWANCE')),
  ledger_account TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('DEBIT', 'CREDIT')),
  amount_nano INTEGER NOT NULL CHECK (amount_nano > 0),
  reservation_id TEXT,
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
  BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
  BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;
CREATE TRIGGER usage_records_no_update BEFORE UPDATE ON usage_records
  BEGIN SELECT RAISE(ABORT, 'usage_records is append-only'); END;
CREATE TRIGGER usage_records_no_delete BEFORE DELETE ON usage_records
  BEGIN SELECT RAISE(ABORT, 'usage_records is append-only'); END;
`,
  },
  {
    version: 2,
    name: 'fundings by account',
    sql: `CREATE INDEX funding_account_time ON funding_references (account_id, created_at_ms);`,
  },
  {
    version: 3,
    name: 'key spend counted only for keys with limits',
    // Until now every keyed reservation was counted; from here only those of keys with limits are (see writeLimits).
    sql: `
ALTER TABLE reservations ADD COLUMN counted INTEGER NOT NULL DEFAULT 1 CHECK (counted IN (0, 1));
UPDATE reservations SET counted = 0
  WHERE status = 'RESERVED' AND (key_id IS NULL OR key_id NOT IN (SELECT key_id FROM key_limits));
DELETE FROM key_spend WHERE key_id NOT IN (SELECT key_id FROM key_limits);
`,
  },
  {
    version: 4,
    name: 'recovery, Stripe-style idempotency, TOTAL key limits, key rate limits and last6',
    sql: `
-- request_id NULL on old rows: their request id was the idempotency key. owner: the ledger instance holding a live
-- reservation (NULL on old rows: a process that is gone). response: the answer stored with the settle.
ALTER TABLE reservations ADD COLUMN request_id TEXT;
ALTER TABLE reservations ADD COLUMN request_hash TEXT;
ALTER TABLE reservations ADD COLUMN owner TEXT;
ALTER TABLE reservations ADD COLUMN response TEXT;
CREATE INDEX reservations_owner ON reservations (owner) WHERE status = 'RESERVED';

-- NULL rate limits: the operator's per-key defaults.
ALTER TABLE api_keys ADD COLUMN secret_last6 TEXT;
ALTER TABLE api_keys ADD COLUMN rpm_limit INTEGER;
ALTER TABLE api_keys ADD COLUMN tpm_limit INTEGER;

-- SQLite cannot alter a CHECK: the small limits table is rebuilt to allow TOTAL.
CREATE TABLE key_limits_v4 (
  key_id TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (currency IN ('DIEM', 'USD', 'TOTAL')),
  period TEXT NOT NULL CHECK (period IN ('EPOCH', 'MONTH', 'LIFETIME')),
  amount_nano INTEGER NOT NULL CHECK (amount_nano >= 0),
  PRIMARY KEY (key_id, currency, period)
) STRICT, WITHOUT ROWID;
INSERT INTO key_limits_v4 (key_id, currency, period, amount_nano)
  SELECT key_id, currency, period, amount_nano FROM key_limits;
DROP TABLE key_limits;
ALTER TABLE key_limits_v4 RENAME TO key_limits;

-- From here a counted reservation moves its class counters (DIEM or USD) and the TOTAL counters; the TOTAL counters
-- of keys with limits start as the sum of their class counters, which are exact.
INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
  SELECT key_id, 'TOTAL', period_key, sum(spent_nano), sum(reserved_nano) FROM key_spend
  GROUP BY key_id, period_key;
`,
  },
  {
    version: 5,
    name: 'allowance per wallet, summed per account',
    sql: `
-- Each linked wallet's allowance per epoch (the chain feed). The owning account is the wallets row's, so a wallet
-- counts for one account only.
CREATE TABLE wallet_allowances (
  address TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  allowance_nano INTEGER NOT NULL CHECK (allowance_nano >= 0),
  PRIMARY KEY (address, epoch)
) STRICT, WITHOUT ROWID;
CREATE INDEX wallets_account ON wallets (account_id);

-- allowance_nano stays the account's whole allowance (what reserves read): direct_nano (setDiemAllowance) plus the
-- sum of its wallets' rows. Until now the feed wrote the account's allowance itself (the last wallet's), so an
-- account with a linked wallet starts with no direct part, and its allowance becomes its wallets' sum at the feed's
-- next write; an account without wallets keeps what was set as its direct part.
ALTER TABLE diem_allowances ADD COLUMN direct_nano INTEGER NOT NULL DEFAULT 0 CHECK (direct_nano >= 0);
UPDATE diem_allowances SET direct_nano = allowance_nano
  WHERE account_id NOT IN (SELECT account_id FROM wallets);
`,
  },
  {
    version: 6,
    name: 'legacy allowance snapshot block per epoch',
    sql: `
-- The chain block every legacy share of an epoch is read at: the first feed to claim one wins, and every feed (a
-- restarted process, another replica) reads there.
CREATE TABLE allowance_snapshots (
  epoch INTEGER PRIMARY KEY CHECK (epoch >= 0),
  block_number INTEGER NOT NULL CHECK (block_number >= 0),
  claimed_at_ms INTEGER NOT NULL
) STRICT;
`,
  },
  {
    version: 7,
    name: 'teams: organizations, projects, budgets, audit log, alerts and webhooks',
    sql: `
-- An organization is funded by its own account (accounts.id); members are other accounts, with a role.
CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  account_id TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE org_members (
  org_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
  added_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, account_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX org_members_account ON org_members (account_id);

CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (org_id, name)
) STRICT;

CREATE TABLE project_admins (
  project_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  PRIMARY KEY (project_id, account_id)
) STRICT, WITHOUT ROWID;

-- A budget of a project or an organization (scope_id), per limit currency and period.
CREATE TABLE budgets (
  scope_id TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('PROJECT', 'ORGANIZATION')),
  org_id TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (currency IN ('DIEM', 'USD', 'TOTAL')),
  period TEXT NOT NULL CHECK (period IN ('EPOCH', 'MONTH')),
  amount_nano INTEGER NOT NULL CHECK (amount_nano >= 0),
  thresholds TEXT NOT NULL, -- JSON array of percentages
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (scope_id, currency, period)
) STRICT, WITHOUT ROWID;
CREATE INDEX budgets_org ON budgets (org_id);

-- What a project or an organization spent and holds, per spend class (DIEM, or USD for credits and USD) and period
-- ("EPOCH:n", "MONTH:yyyy-mm"). Always counted for a key in a project, so a budget set later sees the period's spend;
-- a TOTAL budget reads both classes.
CREATE TABLE budget_spend (
  scope_id TEXT NOT NULL,
  class TEXT NOT NULL CHECK (class IN ('DIEM', 'USD')),
  period_key TEXT NOT NULL,
  spent_nano INTEGER NOT NULL DEFAULT 0 CHECK (spent_nano >= 0),
  reserved_nano INTEGER NOT NULL DEFAULT 0 CHECK (reserved_nano >= 0),
  PRIMARY KEY (scope_id, class, period_key)
) STRICT, WITHOUT ROWID;

ALTER TABLE api_keys ADD COLUMN project_id TEXT;
ALTER TABLE api_keys ADD COLUMN member_account_id TEXT;
CREATE INDEX api_keys_member ON api_keys (member_account_id) WHERE member_account_id IS NOT NULL;
ALTER TABLE reservations ADD COLUMN project_id TEXT;
ALTER TABLE reservations ADD COLUMN org_id TEXT;

CREATE TABLE team_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  actor_account_id TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT,
  at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX team_audit_org ON team_audit (org_id, id);
CREATE TRIGGER team_audit_no_update BEFORE UPDATE ON team_audit
  BEGIN SELECT RAISE(ABORT, 'team_audit is append-only'); END;
CREATE TRIGGER team_audit_no_delete BEFORE DELETE ON team_audit
  BEGIN SELECT RAISE(ABORT, 'team_audit is append-only'); END;

-- One alert per (budget, period, threshold).
CREATE TABLE budget_alerts (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  period TEXT NOT NULL,
  period_key TEXT NOT NULL,
  threshold INTEGER NOT NULL,
  amount_nano INTEGER NOT NULL,
  spent_nano INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (scope_id, currency, period, period_key, threshold)
) STRICT;
CREATE INDEX budget_alerts_org ON budget_alerts (org_id, created_at_ms);

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  removed_at_ms INTEGER
) STRICT;
CREATE INDEX webhooks_org ON webhooks (org_id);

CREATE TABLE webhook_deliveries (
  alert_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER, -- NULL once delivered or given up
  delivered_at_ms INTEGER,
  last_error TEXT,
  PRIMARY KEY (alert_id, webhook_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE next_attempt_at_ms IS NOT NULL;
`,
  },
  {
    version: 8,
    name: 'compute measurements',
    // The gateway's rolling estimates of engine-seconds per token (prefill, decode) and per image, per (model,
    // provider, kind): physical readings, stored as floating point (see ledger/measurements/).
    sql: `
CREATE TABLE compute_measurements (
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('text', 'embedding', 'image')),
  prefill_seconds_per_token REAL,
  prefill_samples INTEGER NOT NULL,
  decode_seconds_per_token REAL,
  decode_samples INTEGER NOT NULL,
  seconds_per_image REAL,
  image_samples INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (model, provider, kind)
) STRICT;
`,
  },
  {
    version: 9,
    name: 'receipts: price sheet of each charge',
    // The sheet's keccak256 (0x + 64 hex), set by the settle; and the charge of a request, found by its id.
    sql: `
ALTER TABLE reservations ADD COLUMN price_sheet_hash TEXT;
CREATE INDEX reservations_request ON reservations (request_id);
`,
  },
  {
    version: 11,
    name: 'sqlite: key spend by class only',
    // From here a counted reservation moves its class counters only, and a TOTAL limit reads the sum of both classes
    // (as a TOTAL budget reads budget_spend): the TOTAL counters, each the sum of its class counters, go.
    sql: `DELETE FROM key_spend WHERE currency = 'TOTAL';`,
  },
];
