/**
 * The settings store in memory: what a gateway without a database (tests, the in-process app) keeps, so every
 * gateway has the same operator routes. Nothing survives the process.
 */
import { assertKind, assertReadLimit, encodeRecord, isBasedOn, settingsConflict } from './records.ts';
import type { JsonValue, SettingsRecord, SettingsStore } from './types.ts';

export function createMemorySettingsStore(): SettingsStore {
  const records: SettingsRecord[] = [];
  const newestOf = (kind: string) => records.findLast((record) => record.kind === kind)?.version ?? null;
  return {
    async append(kind, value, meta) {
      const encoded = encodeRecord(kind, value, meta);
      const newest = newestOf(kind);
      if (!isBasedOn(meta, newest)) throw settingsConflict(kind, meta.basedOn ?? null, newest);
      // Stored as its JSON text and parsed back, as the databases do: a caller's later mutation changes nothing.
      const record: SettingsRecord = {
        version: records.length + 1,
        kind,
        value: JSON.parse(encoded.valueText) as JsonValue,
        createdAtMs: encoded.createdAtMs,
        actor: encoded.actor,
        note: encoded.note,
      };
      records.push(record);
      return structuredClone(record);
    },
    async latest(kind) {
      assertKind(kind);
      const found = records.findLast((record) => record.kind === kind);
      return found ? structuredClone(found) : null;
    },
    async history(kind, limit) {
      assertKind(kind);
      assertReadLimit(limit);
      return structuredClone(
        records
          .filter((record) => record.kind === kind)
          .reverse()
          .slice(0, limit),
      );
    },
    async since(afterVersion, limit) {
      assertReadLimit(limit);
      return structuredClone(records.filter((record) => record.version > afterVersion).slice(0, limit));
    },
    async head() {
      return records.length;
    },
    async close() {},
  };
}
