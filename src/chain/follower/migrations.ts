/**
 * The follower's tables, beside the ledger's in the same database: every name starts with `chain_`, and applied
 * versions are recorded in `chain_schema_migrations` (not the ledger's `schema_migrations`). Never edit an applied
 * migration: add one. Amounts are decimal (uint256 can exceed 64 bits); block timestamps are unix seconds.
 */
export interface FollowerMigration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteFollowerMigrations: readonly FollowerMigration[] = [
  {
    version: 1,
    name: 'chain events, cursor and recent blocks',
    sql: `
CREATE TABLE IF NOT EXISTS chain_events (
  chain_id INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  block_timestamp_s INTEGER NOT NULL,
  contract TEXT NOT NULL,
  address TEXT NOT NULL,
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  counterparty TEXT,
  amount_wei TEXT NOT NULL,
  details TEXT NOT NULL,
  PRIMARY KEY (chain_id, block_hash, log_index)
) STRICT;
CREATE INDEX IF NOT EXISTS chain_events_position ON chain_events (chain_id, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_events_account ON chain_events (chain_id, account, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_events_counterparty
  ON chain_events (chain_id, counterparty, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_events_kind ON chain_events (chain_id, kind, block_number, log_index);

CREATE TABLE IF NOT EXISTS chain_cursor (
  chain_id INTEGER PRIMARY KEY,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS chain_blocks (
  chain_id INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  PRIMARY KEY (chain_id, block_number)
) STRICT;
`,
  },
];

export const postgresFollowerMigrations: readonly FollowerMigration[] = [
  {
    version: 1,
    name: 'chain events, cursor and recent blocks',
    sql: `
CREATE TABLE IF NOT EXISTS chain_events (
  chain_id BIGINT NOT NULL,
  block_number BIGINT NOT NULL,
  block_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  block_timestamp_s BIGINT NOT NULL,
  contract TEXT NOT NULL,
  address TEXT NOT NULL,
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  counterparty TEXT,
  amount_wei NUMERIC(78, 0) NOT NULL,
  details JSONB NOT NULL,
  PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX IF NOT EXISTS chain_events_position ON chain_events (chain_id, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_events_account ON chain_events (chain_id, account, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_events_counterparty
  ON chain_events (chain_id, counterparty, block_number, log_index);
CREATE INDEX IF NOT EXISTS chain_events_kind ON chain_events (chain_id, kind, block_number, log_index);

CREATE TABLE IF NOT EXISTS chain_cursor (
  chain_id BIGINT PRIMARY KEY,
  block_number BIGINT NOT NULL,
  block_hash TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS chain_blocks (
  chain_id BIGINT NOT NULL,
  block_number BIGINT NOT NULL,
  block_hash TEXT NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);
`,
  },
];
