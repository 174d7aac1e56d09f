/**
 * The operator's settings as an append-only, versioned log in the ledger's database: every change is a new record
 * with the next version number (one sequence across all kinds, so `head()` tells a replica whether anything changed).
 * Values are JSON; the gateway owns their shape and validates them (money inside as exact decimal strings).
 */

/** What a record sets. 'prices' records add a price sheet each; every other kind replaces the previous value. */
export type SettingsKind = 'prices' | 'rateLimits' | 'providers' | 'models';

export const settingsKinds: readonly SettingsKind[] = ['prices', 'rateLimits', 'providers', 'models'];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface SettingsRecord {
  /** Positive, unique, increasing in commit order across all kinds. */
  version: number;
  kind: SettingsKind;
  value: JsonValue;
  createdAtMs: number;
  /** Who made the change (e.g. "admin-api"), and why, when known. */
  actor: string | null;
  note: string | null;
}

export interface SettingsMeta {
  createdAtMs: number;
  actor?: string | null;
  note?: string | null;
  /**
   * The newest version of this kind the value was derived from (null: there was none). When another version of the
   * kind is newer, nothing is stored and append throws a ConflictError: the caller re-reads and tries again.
   * Omitted: appended whatever came before.
   */
  basedOn?: number | null;
}

export interface SettingsStore {
  append(kind: SettingsKind, value: JsonValue, meta: SettingsMeta): Promise<SettingsRecord>;
  /** The newest record of `kind`, or null when there is none. */
  latest(kind: SettingsKind): Promise<SettingsRecord | null>;
  /** Up to `limit` records of `kind`, newest first. */
  history(kind: SettingsKind, limit: number): Promise<SettingsRecord[]>;
  /** Up to `limit` records of any kind with a version above `afterVersion`, oldest first. */
  since(afterVersion: number, limit: number): Promise<SettingsRecord[]>;
  /** The highest version stored, 0 when none: what a replica polls. */
  head(): Promise<number>;
  close(): Promise<void>;
}

/** Who made a change and why, as a caller gives it (the store adds the time). */
export type SettingsNote = Pick<SettingsMeta, 'actor' | 'note'>;
