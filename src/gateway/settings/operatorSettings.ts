/**
 * The operator's settings as a gateway holds them: price sheets, rate limits, provider and model settings, read from
 * the settings store on top of the defaults it was started with. A change is stored first (conditionally on the
 * newest version of its kind, so two replicas never overwrite each other's change unseen), then applied. Replicas
 * see each other's changes by polling the store's head and reading the versions they do not have yet.
 */
import type { Clock } from '../../core/epoch.ts';
import { ConflictError } from '../../core/errors.ts';
import { addPriceSheet, type PriceBook, type PriceSheet, priceSheetAt } from '../../core/pricing.ts';
import { createMemorySettingsStore } from '../../ledger/settings/memorySettingsStore.ts';
import { openSettingsStore, type SettingsStoreLocation } from '../../ledger/settings/openSettingsStore.ts';
import type {
  JsonValue,
  SettingsKind,
  SettingsNote,
  SettingsRecord,
  SettingsStore,
} from '../../ledger/settings/types.ts';
import { type RateLimitConfig, rateLimitsDefault } from '../limits.ts';
import type { PriceBookStore } from '../priceBookStore.ts';
import type { RoutingSettings } from '../providers/registry.ts';
import { parseWith } from '../validate/body.ts';
import { operatorSettingsLimits as limits } from './limits.ts';
import {
  type ModelSetting,
  modelSettingSchema,
  modelSettingsFromJson,
  type ProviderSetting,
  priceSheetFromStored,
  priceSheetToStored,
  providerSettingSchema,
  providerSettingsFromJson,
  rateLimitsFromJson,
  rateLimitsSchema,
} from './settingsJson.ts';

export type { ModelSetting, ProviderSetting } from './settingsJson.ts';

export interface OperatorSettings extends RoutingSettings {
  /** The price book; `add` stores the sheet before it is in force. */
  readonly prices: PriceBookStore;
  rateLimits(): RateLimitConfig;
  /** null goes back to the defaults (as a new version, so the history shows it). */
  setRateLimits(next: RateLimitConfig | null, note?: SettingsNote): Promise<RateLimitConfig>;
  /** Only the providers and models the operator set; the others run as configured. */
  providers(): Readonly<Record<string, ProviderSetting>>;
  models(): Readonly<Record<string, ModelSetting>>;
  /** Sets one provider's setting from what it is now (undefined: never set); tried again if a replica raced it. */
  updateProvider(
    id: string,
    update: (current: ProviderSetting | undefined) => ProviderSetting,
    note?: SettingsNote,
  ): Promise<ProviderSetting>;
  updateModel(
    id: string,
    update: (current: ModelSetting | undefined) => ModelSetting,
    note?: SettingsNote,
  ): Promise<ModelSetting>;
  /** The stored changes of `kind`, newest first. */
  history(kind: SettingsKind, limit: number): Promise<SettingsRecord[]>;
  /** Reads and applies every version newer than the newest applied here. */
  refresh(): Promise<void>;
  /** Stops polling and closes the store. */
  close(): Promise<void>;
}

export interface OperatorSettingsDefaults {
  prices: PriceBook;
  rateLimits: RateLimitConfig;
}

export interface OperatorSettingsOptions {
  store: SettingsStore;
  defaults: OperatorSettingsDefaults;
  clock: Clock;
  /** How often to read other replicas' changes; 0 never polls. Default `pollIntervalMsDefault`. */
  pollIntervalMs?: number;
  /** A poll that failed, or a stored price sheet that does not go forward (skipped). Default: a line on stderr. */
  onProblem?: (message: string, error?: unknown) => void;
}

interface State {
  /** The highest version applied. */
  applied: number;
  /** The newest applied version of each kind: what a change is based on. */
  newest: Record<SettingsKind, number | null>;
  storedSheets: PriceSheet[];
  /** The note each stored sheet was added with, by its `effectiveFromMs` (an override's reason is kept there). */
  sheetNotes: Map<number, string>;
  book: PriceBook;
  rateLimits: RateLimitConfig;
  providers: Record<string, ProviderSetting>;
  models: Record<string, ModelSetting>;
}

/** The defaults' versions before the first stored sheet, then the stored sheets: stored versions take over. */
export function bookOf(defaults: PriceBook, stored: readonly PriceSheet[]): PriceBook {
  const first = stored[0];
  if (first === undefined) return defaults;
  return { versions: [...defaults.versions.filter((v) => v.effectiveFromMs < first.effectiveFromMs), ...stored] };
}

function initialState(defaults: OperatorSettingsDefaults): State {
  return {
    applied: 0,
    newest: { prices: null, rateLimits: null, providers: null, models: null },
    storedSheets: [],
    sheetNotes: new Map(),
    book: defaults.prices,
    rateLimits: defaults.rateLimits,
    providers: {},
    models: {},
  };
}

type OnProblem = NonNullable<OperatorSettingsOptions['onProblem']>;

/** Applies one stored version to `state`. */
function applyRecord(state: State, record: SettingsRecord, defaults: OperatorSettingsDefaults, onProblem: OnProblem) {
  switch (record.kind) {
    case 'prices': {
      const sheet = priceSheetFromStored(record.value);
      const last = state.storedSheets.at(-1);
      // Only a store written around the conditional append can hold one; skipping it keeps the book ordered.
      if (last && sheet.effectiveFromMs <= last.effectiveFromMs) {
        onProblem(`price sheet version ${record.version} does not go forward; skipped`);
      } else {
        state.storedSheets = [...state.storedSheets, sheet];
        state.book = bookOf(defaults.prices, state.storedSheets);
        if (record.note) state.sheetNotes.set(sheet.effectiveFromMs, record.note);
      }
      break;
    }
    case 'rateLimits':
      state.rateLimits = record.value === null ? defaults.rateLimits : rateLimitsFromJson(record.value);
      break;
    case 'providers':
      state.providers = providerSettingsFromJson(record.value);
      break;
    case 'models':
      state.models = modelSettingsFromJson(record.value);
      break;
  }
  state.newest[record.kind] = record.version;
  state.applied = record.version;
}

/** Reads and applies every version newer than `state.applied`, one refresh at a time. */
function refresher(store: SettingsStore, state: State, apply: (record: SettingsRecord) => void) {
  const readNewer = async (): Promise<void> => {
    for (;;) {
      const records = await store.since(state.applied, limits.refreshPageSizeMax);
      for (const record of records) apply(record);
      if (records.length < limits.refreshPageSizeMax) return;
    }
  };
  // One refresh at a time: two overlapping ones would apply the same versions twice.
  let refreshing: Promise<void> = Promise.resolve();
  return {
    refresh(): Promise<void> {
      const next = refreshing.then(readNewer, readNewer);
      refreshing = next.catch(() => {});
      return next;
    },
    /** Settles once the latest refresh has, whatever its outcome. */
    idle: (): Promise<void> => refreshing,
  };
}

type Change = (kind: SettingsKind, build: () => JsonValue, note: SettingsNote | undefined) => Promise<void>;

/** Stores what `build` makes from the freshest state, based on its kind's newest version; then applies it. */
function changer(store: SettingsStore, state: State, clock: Clock, refresh: () => Promise<void>): Change {
  return async (kind, build, note) => {
    for (let attempt = 1; ; attempt++) {
      await refresh();
      const value = build();
      try {
        await store.append(kind, value, {
          createdAtMs: clock(),
          actor: note?.actor ?? null,
          note: note?.note ?? null,
          basedOn: state.newest[kind],
        });
      } catch (error) {
        if (error instanceof ConflictError && attempt < limits.changeAttemptsMax) continue;
        throw error;
      }
      await refresh();
      return;
    }
  };
}

/** Polls the store's head every `intervalMs` (never when 0) and refreshes when it moved: other replicas' changes. */
function poller(store: SettingsStore, state: State, refresh: () => Promise<void>, onProblem: OnProblem) {
  let timer: ReturnType<typeof setInterval> | undefined;
  let polled: Promise<void> = Promise.resolve();
  let pollInFlight = false;
  const poll = async (): Promise<void> => {
    try {
      if ((await store.head()) !== state.applied) await refresh();
    } catch (error) {
      onProblem('reading changes from the store failed; trying again at the next poll', error);
    } finally {
      pollInFlight = false;
    }
  };
  return {
    start(intervalMs: number): void {
      if (intervalMs <= 0) return;
      timer = setInterval(() => {
        if (pollInFlight) return;
        pollInFlight = true;
        polled = poll();
      }, intervalMs).unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await polled;
    },
  };
}

function pricesOn(state: State, change: Change): PriceBookStore {
  return {
    current: () => state.book,
    priceAt: (model, atMs) => priceSheetAt(state.book, atMs)?.models[model] ?? null,
    add: (sheet, note, check) =>
      change(
        'prices',
        () => {
          check?.(state.book); // against the freshest book, again on every attempt
          addPriceSheet(state.book, sheet); // a 400 when it does not go forward
          return priceSheetToStored(sheet);
        },
        note,
      ),
    noteOf: (effectiveFromMs) => state.sheetNotes.get(effectiveFromMs) ?? null,
  };
}

/** Settings on `store`, not read yet and not polling (`openOperatorSettings` does both), and how to start polling. */
function settingsOn(options: OperatorSettingsOptions): { settings: OperatorSettings; startPolling(): void } {
  const { store, defaults, clock } = options;
  const onProblem: OnProblem =
    options.onProblem ?? ((message, error) => console.error(`operator settings: ${message}`, error ?? ''));
  const state = initialState(defaults);
  const { refresh, idle } = refresher(store, state, (record) => applyRecord(state, record, defaults, onProblem));
  const change = changer(store, state, clock, refresh);
  const polling = poller(store, state, refresh, onProblem);

  const settings: OperatorSettings = {
    prices: pricesOn(state, change),
    rateLimits: () => state.rateLimits,
    async setRateLimits(next, note) {
      await change('rateLimits', () => (next === null ? null : parseWith(rateLimitsSchema, next)), note);
      return state.rateLimits;
    },
    providers: () => state.providers,
    models: () => state.models,
    async updateProvider(id, update, note) {
      await change(
        'providers',
        () => ({ ...state.providers, [id]: parseWith(providerSettingSchema, update(state.providers[id])) }),
        note,
      );
      return state.providers[id]!;
    },
    async updateModel(id, update, note) {
      await change(
        'models',
        () => ({ ...state.models, [id]: parseWith(modelSettingSchema, update(state.models[id])) }),
        note,
      );
      return state.models[id]!;
    },
    provider: (id) => state.providers[id],
    model: (id) => state.models[id],
    revision: () => state.applied,
    history: (kind, limit) => store.history(kind, limit),
    refresh,
    async close() {
      await polling.stop();
      await idle();
      await store.close();
    },
  };
  const intervalMs = options.pollIntervalMs ?? limits.pollIntervalMsDefault;
  return { settings, startPolling: () => polling.start(intervalMs) };
}

/** Settings read from `store` (stored versions on top of the defaults), polling it for other replicas' changes. */
export async function openOperatorSettings(options: OperatorSettingsOptions): Promise<OperatorSettings> {
  const { settings, startPolling } = settingsOn(options);
  try {
    await settings.refresh();
  } catch (error) {
    await options.store.close();
    throw error;
  }
  startPolling();
  return settings;
}

/** Settings kept in memory only, as a gateway has without a database: the operator routes work; a restart forgets. */
export function memoryOperatorSettings(options: {
  prices: PriceBook;
  rateLimits?: Partial<RateLimitConfig> | undefined;
  clock: Clock;
}): OperatorSettings {
  const rateLimits = {
    key: { ...rateLimitsDefault.key, ...options.rateLimits?.key },
    account: { ...rateLimitsDefault.account, ...options.rateLimits?.account },
  };
  return settingsOn({
    store: createMemorySettingsStore(),
    defaults: { prices: options.prices, rateLimits },
    clock: options.clock,
    pollIntervalMs: 0,
  }).settings;
}

export interface OperatorSettingsLocation extends SettingsStoreLocation {
  defaults: OperatorSettingsDefaults;
  clock: Clock;
  pollIntervalMs?: number;
  onProblem?: OperatorSettingsOptions['onProblem'];
}

/**
 * Settings where the ledger is: its PostgreSQL schema when `databaseUrl` is set (shared by every replica), else its
 * SQLite file. What `perdiem up` passes to the gateway as `settings`; close it after the gateway.
 */
export async function openOperatorSettingsFor(where: OperatorSettingsLocation): Promise<OperatorSettings> {
  const store = await openSettingsStore(where);
  return openOperatorSettings({
    store,
    defaults: where.defaults,
    clock: where.clock,
    ...(where.pollIntervalMs === undefined ? {} : { pollIntervalMs: where.pollIntervalMs }),
    ...(where.onProblem ? { onProblem: where.onProblem } : {}),
  });
}
