/** What both adapters check before they write, and how they report a lost race. */
import { assert, ConflictError, InvalidRequestError } from '../../core/errors.ts';
import { settingsLimits } from './limits.ts';
import { type JsonValue, type SettingsKind, type SettingsMeta, settingsKinds } from './types.ts';

export interface EncodedRecord {
  kind: SettingsKind;
  valueText: string;
  createdAtMs: number;
  actor: string | null;
  note: string | null;
}

export function encodeRecord(kind: SettingsKind, value: JsonValue, meta: SettingsMeta): EncodedRecord {
  assertKind(kind);
  assert(Number.isSafeInteger(meta.createdAtMs) && meta.createdAtMs >= 0, `bad createdAtMs ${meta.createdAtMs}`);
  const valueText = JSON.stringify(value);
  if (Buffer.byteLength(valueText, 'utf8') > settingsLimits.valueBytesMax) {
    throw new InvalidRequestError(`${kind} settings exceed ${settingsLimits.valueBytesMax} bytes of JSON`, {
      code: 'settings_too_large',
    });
  }
  const actor = meta.actor ?? null;
  const note = meta.note ?? null;
  assert(actor === null || actor.length <= settingsLimits.actorLengthMax, 'settings actor too long');
  if (note !== null && note.length > settingsLimits.noteLengthMax) {
    throw new InvalidRequestError(`a settings note is at most ${settingsLimits.noteLengthMax} characters`, {
      code: 'settings_note_too_long',
      param: 'note',
    });
  }
  return { kind, valueText, createdAtMs: meta.createdAtMs, actor, note };
}

export function assertKind(kind: SettingsKind): void {
  assert(settingsKinds.includes(kind), `unknown settings kind ${String(kind)}`);
}

export function assertReadLimit(limit: number): void {
  assert(Number.isSafeInteger(limit) && limit > 0 && limit <= settingsLimits.recordsPerReadMax, `bad limit ${limit}`);
}

/** The conditional append's check: true when the newest stored version of the kind is the one the caller read. */
export function isBasedOn(meta: SettingsMeta, newest: number | null): boolean {
  return meta.basedOn === undefined || meta.basedOn === newest;
}

export function settingsConflict(kind: SettingsKind, basedOn: number | null, newest: number | null): ConflictError {
  return new ConflictError(
    `${kind} settings changed meanwhile (read version ${basedOn ?? 'none'}, now ${newest ?? 'none'}); read and retry`,
    { code: 'settings_version_conflict' },
  );
}
