/**
 * PostgreSQL schema, applied in order under an advisory lock (replicas may start together) and recorded in
 * `schema_migrations`. Never edit an applied migration: add one. Migrations hold schema changes only: the PL/pgSQL
 * functions live in functions.ts and are installed after them at every open (versions 1 and 3 once created the
 * functions too; their text was moved there). One documented exception: version 1 creates `perdiem_append_only`,
 * the trigger function of the append-only tables, because its own triggers execute it; it holds no rule and never
 * changes, and it stays out of functions.ts, whose changed set is dropped and recreated (a function triggers depend
 * on cannot be dropped). definedOnce.test.ts holds the migrations to this.
 */
import type { Migration } from '../sqlite/migrations.ts';

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger',
    sql: `
-- Value rules of the hot tables as domains rather than table CHECK constraints: PostgreSQL 15 re-parses a table's
-- CHECK constraints on every statement that writes it (about an eighth of the server time of a reserve+settle),
-- while a domain's rule is parsed once per connection. The guarantees are the same.
CREATE DOMAIN perdiem_nano AS bigint CHECK (VALUE >= 0);
CREATE DOMAIN perdiem_positive_nano AS bigint CHECK (VALUE > 0);
CREATE DOMAIN perdiem_source AS text CHECK (VALUE IN ('DIEM', 'CREDITS', 'USD'));
CREATE DOMAIN perdiem_balance_source AS text CHECK (VALUE IN ('CREDITS', 'USD'));
CREATE DOMAIN perdiem_reservation_status AS text CHECK (VALUE IN ('RESERVED', 'SETTLED', 'VOIDED', 'EXPIRED'));
CREATE DOMAIN perdiem_journal_kind AS text CHECK (VALUE IN ('CHARGE', 'LOSS', 'FUNDING', 'ALLOWANCE'));
CREATE DOMAIN perdiem_journal_side AS text CHECK (VALUE IN ('DEBIT', 'CREDIT'));

CREATE TABLE accounts (
  id text PRIMARY KEY,
  name text,
  created_at_ms bigint NOT NULL
);

CREATE TABLE wallets (
  address text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts (id),
  linked_at_ms bigint NOT NULL
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN ('INFERENCE', 'ADMIN')),
  name text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  secret_prefix text NOT NULL,
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint,
  revoked_at_ms bigint,
  allowed_models text[]
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE key_limits (
  key_id text NOT NULL REFERENCES api_keys (id),
  currency text NOT NULL CHECK (currency IN ('DIEM', 'USD')),
  period text NOT NULL CHECK (period IN ('EPOCH', 'MONTH', 'LIFETIME')),
  amount_nano bigint NOT NULL CHECK (amount_nano >= 0),
  PRIMARY KEY (key_id, currency, period)
);

CREATE TABLE key_spend (
  key_id text NOT NULL,
  currency text NOT NULL,
  period_key text NOT NULL,
  spent_nano perdiem_nano NOT NULL,
  reserved_nano perdiem_nano NOT NULL,
  PRIMARY KEY (key_id, currency, period_key)
);

CREATE TABLE balances (
  account_id text NOT NULL REFERENCES accounts (id),
  source perdiem_balance_source NOT NULL,
  available_nano perdiem_nano NOT NULL,
  reserved_nano perdiem_nano NOT NULL,
  PRIMARY KEY (account_id, source)
);

CREATE TABLE diem_allowances (
  account_id text NOT NULL REFERENCES accounts (id),
  epoch bigint NOT NULL,
  allowance_nano perdiem_nano NOT NULL,
  spent_nano perdiem_nano NOT NULL,
  reserved_nano perdiem_nano NOT NULL,
  PRIMARY KEY (account_id, epoch)
);

CREATE TABLE funding_references (
  reference text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts (id),
  source text NOT NULL,
  amount_nano bigint NOT NULL CHECK (amount_nano > 0),
  created_at_ms bigint NOT NULL
);

CREATE TABLE reservations (
  id text PRIMARY KEY,
  account_id text NOT NULL,
  key_id text,
  idempotency_key text NOT NULL,
  model text NOT NULL,
  source perdiem_source NOT NULL,
  epoch bigint NOT NULL,
  month text NOT NULL,
  amount_nano perdiem_nano NOT NULL,
  status perdiem_reservation_status NOT NULL,
  charged_nano bigint CHECK (charged_nano <= amount_nano),
  loss_nano bigint,
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  finished_at_ms bigint
);
CREATE UNIQUE INDEX reservations_idempotency ON reservations (account_id, idempotency_key)
  WHERE status IN ('RESERVED', 'SETTLED');
CREATE INDEX reservations_expiry ON reservations (expires_at_ms) WHERE status = 'RESERVED';

CREATE TABLE usage_records (
  id bigserial PRIMARY KEY,
  reservation_id text NOT NULL,
  request_id text NOT NULL,
  account_id text NOT NULL,
  key_id text,
  model text NOT NULL,
  sku text NOT NULL,
  units bigint NOT NULL,
  unit_price_nano bigint NOT NULL,
  price_unit bigint NOT NULL,
  list_amount_nano bigint NOT NULL,
  amount_nano perdiem_nano NOT NULL CHECK (amount_nano <= list_amount_nano),
  currency text NOT NULL,
  source text NOT NULL,
  latency_ms integer,
  epoch bigint NOT NULL,
  created_at_ms bigint NOT NULL
);
CREATE INDEX usage_account_time ON usage_records (account_id, created_at_ms, id);

CREATE TABLE journal_entries (
  id bigserial PRIMARY KEY,
  txn_id text NOT NULL,
  kind perdiem_journal_kind NOT NULL,
  ledger_account text NOT NULL,
  side perdiem_journal_side NOT NULL,
  amount_nano perdiem_positive_nano NOT NULL,
  reservation_id text,
  created_at_ms bigint NOT NULL
);

CREATE FUNCTION perdiem_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION perdiem_append_only();
CREATE TRIGGER usage_records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON usage_records
  FOR EACH STATEMENT EXECUTE FUNCTION perdiem_append_only();
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
    // Until now every keyed reservation was counted in key_spend; from here only those of keys with limits are, and
    // the adapter rebuilds a key's counters when it gains limits (see recountKeySpend).
    sql: `
ALTER TABLE reservations ADD COLUMN counted boolean NOT NULL DEFAULT true;
UPDATE reservations SET counted = false
  WHERE status = 'RESERVED' AND (key_id IS NULL OR key_id NOT IN (SELECT key_id FROM key_limits));
DELETE FROM key_spend WHERE key_id NOT IN (SELECT key_id FROM key_limits);
`,
  },
  {
    version: 4,
    name: 'recovery, idempotent replays, TOTAL limits, key rate limits',
    // Reservations keep the attempt (request_id; NULL on older rows, which read it as their idempotency key), the
    // request digest, the ledger instance that holds them (owner) and the stored answer. TOTAL limits cover every
    // source: a counted reservation now also moves TOTAL counters, built here from the exact per-class ones.
    sql: `
ALTER TABLE reservations ADD COLUMN request_id text, ADD COLUMN request_hash text, ADD COLUMN owner text,
  ADD COLUMN response text;
CREATE INDEX reservations_owner ON reservations (owner) WHERE status = 'RESERVED';
ALTER TABLE api_keys ADD COLUMN secret_last6 text, ADD COLUMN rpm_limit integer, ADD COLUMN tpm_limit integer;
ALTER TABLE key_limits DROP CONSTRAINT key_limits_currency_check,
  ADD CONSTRAINT key_limits_currency_check CHECK (currency IN ('DIEM', 'USD', 'TOTAL'));
INSERT INTO key_spend (key_id, currency, period_key, spent_nano, reserved_nano)
  SELECT key_id, 'TOTAL', period_key, sum(spent_nano), sum(reserved_nano) FROM key_spend
    WHERE currency IN ('DIEM', 'USD') GROUP BY key_id, period_key;
`,
  },
  {
    version: 5,
    name: 'allowance per wallet, summed per account',
    // Each linked wallet's allowance per epoch (the chain feed); the owning account is the wallets row's, so a wallet
    // counts for one account only. diem_allowances.allowance_nano stays the account's whole allowance (what reserves
    // read): direct_nano (setDiemAllowance) plus its wallets' sum. Until now the feed wrote the account's allowance
    // itself (the last wallet's), so an account with a linked wallet starts with no direct part and gets its wallets'
    // sum at the feed's next write; an account without wallets keeps what was set as its direct part.
    sql: `
CREATE TABLE wallet_allowances (
  address text NOT NULL REFERENCES wallets (address),
  epoch bigint NOT NULL,
  allowance_nano perdiem_nano NOT NULL,
  PRIMARY KEY (address, epoch)
);
CREATE INDEX wallets_account ON wallets (account_id);
ALTER TABLE diem_allowances ADD COLUMN direct_nano perdiem_nano NOT NULL DEFAULT 0;
UPDATE diem_allowances SET direct_nano = allowance_nano
  WHERE account_id NOT IN (SELECT account_id FROM wallets);
`,
  },
  {
    version: 6,
    name: 'legacy allowance snapshot block per epoch',
    // The chain block every legacy share of an epoch is read at: the first feed to claim one wins, and every feed (a
    // restarted process, another replica) reads there.
    sql: `
CREATE TABLE allowance_snapshots (
  epoch bigint PRIMARY KEY CHECK (epoch >= 0),
  block_number bigint NOT NULL CHECK (block_number >= 0),
  claimed_at_ms bigint NOT NULL
);
`,
  },
  {
    version: 7,
    name: 'teams: organizations, projects, budgets, audit log, alerts and webhooks',
    // As SQLite's version 7: an organization is funded by its own account; budgets per project or organization,
    // limit currency and period; budget_spend counts every key of a project per spend class and period.
    sql: `
CREATE TABLE organizations (
  id text PRIMARY KEY,
  name text NOT NULL,
  account_id text NOT NULL UNIQUE REFERENCES accounts (id),
  created_at_ms bigint NOT NULL
);
CREATE TABLE org_members (
  org_id text NOT NULL REFERENCES organizations (id),
  account_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
  added_at_ms bigint NOT NULL,
  PRIMARY KEY (org_id, account_id)
);
CREATE INDEX org_members_account ON org_members (account_id);
CREATE TABLE projects (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations (id),
  name text NOT NULL,
  created_at_ms bigint NOT NULL,
  UNIQUE (org_id, name)
);
CREATE TABLE project_admins (
  project_id text NOT NULL REFERENCES projects (id),
  account_id text NOT NULL,
  PRIMARY KEY (project_id, account_id)
);
CREATE TABLE budgets (
  scope_id text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('PROJECT', 'ORGANIZATION')),
  org_id text NOT NULL REFERENCES organizations (id),
  currency text NOT NULL CHECK (currency IN ('DIEM', 'USD', 'TOTAL')),
  period text NOT NULL CHECK (period IN ('EPOCH', 'MONTH')),
  amount_nano perdiem_nano NOT NULL,
  thresholds text NOT NULL,
  updated_at_ms bigint NOT NULL,
  PRIMARY KEY (scope_id, currency, period)
);
CREATE INDEX budgets_org ON budgets (org_id);
CREATE TABLE budget_spend (
  scope_id text NOT NULL,
  class text NOT NULL CHECK (class IN ('DIEM', 'USD')),
  period_key text NOT NULL,
  spent_nano perdiem_nano NOT NULL DEFAULT 0,
  reserved_nano perdiem_nano NOT NULL DEFAULT 0,
  PRIMARY KEY (scope_id, class, period_key)
);
ALTER TABLE api_keys ADD COLUMN project_id text REFERENCES projects (id), ADD COLUMN member_account_id text;
CREATE INDEX api_keys_member ON api_keys (member_account_id) WHERE member_account_id IS NOT NULL;
ALTER TABLE reservations ADD COLUMN project_id text, ADD COLUMN org_id text;
CREATE TABLE team_audit (
  id bigserial PRIMARY KEY,
  org_id text NOT NULL,
  actor_account_id text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  before_json text,
  after_json text,
  at_ms bigint NOT NULL
);
CREATE INDEX team_audit_org ON team_audit (org_id, id);
CREATE TRIGGER team_audit_append_only BEFORE UPDATE OR DELETE ON team_audit
  FOR EACH ROW EXECUTE FUNCTION perdiem_append_only();
CREATE TABLE budget_alerts (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  scope text NOT NULL,
  scope_id text NOT NULL,
  currency text NOT NULL,
  period text NOT NULL,
  period_key text NOT NULL,
  threshold integer NOT NULL,
  amount_nano bigint NOT NULL,
  spent_nano bigint NOT NULL,
  created_at_ms bigint NOT NULL,
  UNIQUE (scope_id, currency, period, period_key, threshold)
);
CREATE INDEX budget_alerts_org ON budget_alerts (org_id, created_at_ms);
CREATE TABLE webhooks (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations (id),
  url text NOT NULL,
  secret text NOT NULL,
  created_at_ms bigint NOT NULL,
  removed_at_ms bigint
);
CREATE INDEX webhooks_org ON webhooks (org_id);
CREATE TABLE webhook_deliveries (
  alert_id text NOT NULL REFERENCES budget_alerts (id),
  webhook_id text NOT NULL REFERENCES webhooks (id),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at_ms bigint,
  delivered_at_ms bigint,
  last_error text,
  PRIMARY KEY (alert_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE next_attempt_at_ms IS NOT NULL;
`,
  },
  {
    version: 8,
    name: 'compute measurements',
    // As SQLite's version 8.
    sql: `
CREATE TABLE compute_measurements (
  model text NOT NULL,
  provider text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('text', 'embedding', 'image')),
  prefill_seconds_per_token double precision,
  prefill_samples integer NOT NULL,
  decode_seconds_per_token double precision,
  decode_samples integer NOT NULL,
  seconds_per_image double precision,
  image_samples integer NOT NULL,
  samples bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  PRIMARY KEY (model, provider, kind)
);
`,
  },
  {
    version: 9,
    name: 'receipts: price sheet of each charge',
    // The sheet's keccak256 (0x + 64 hex), set by the settle; and the charge of a request, found by its id.
    sql: `
ALTER TABLE reservations ADD COLUMN price_sheet_hash text;
CREATE INDEX reservations_request ON reservations (request_id);
`,
  },
  {
    version: 10,
    name: 'key spend by class only',
    // As SQLite's version 11: from here a counted reservation moves its class counters only, and a TOTAL limit reads
    // the sum of both classes (as a TOTAL budget reads budget_spend): the TOTAL counters, each that sum, go.
    sql: `DELETE FROM key_spend WHERE currency = 'TOTAL';`,
  },
];
