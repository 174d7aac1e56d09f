/**
 * The SQLite adapter of two-phase metering: the hot path. Reserve, settle, void and expire each read and write in
 * the group commit (`SqliteStorage.write`), with statements prepared once.
 */
import { type Clock, epochAt, monthAt } from '../../core/epoch.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { NanoUsd } from '../../core/money.ts';
import type { KeyLimitUsage } from '../accounts/accountsLedger.ts';
import type { SqliteAccounts } from '../accounts/sqliteAccounts.ts';
import { ledgerLimits } from '../limits.ts';
import type { SqliteJournalWriter } from '../reporting/sqliteJournalWriter.ts';
import { type Row, toReservation } from '../rows.ts';
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { type FundingSource, limitCurrencyOf } from '../vocabulary.ts';
import {
  combinedCaps,
  headroomAfterHold,
  levelCapsOf,
  noLevelCaps,
  refusalLevelOf,
  treeRefusal,
} from './budgetRules.ts';
import { headroomsOf } from './keyLimitRules.ts';
import type {
  MeteringLedger,
  OperatorLoss,
  Reservation,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
  Spendable,
} from './meteringLedger.ts';
import {
  allocateCharge,
  chooseSource,
  ledgerAccountOf,
  operatorLoss,
  operatorRevenue,
  periodKeysOf,
  type ResolvedReserve,
  replayOf,
  validateHoldTtl,
  validateLoss,
  validateReserveInput,
  validateSettleInput,
} from './meteringRules.ts';
import { headroomOf, type KeyInUse, SqliteKeyLimits } from './sqliteKeyLimits.ts';
import { meteringStatements } from './sqliteMeteringStatements.ts';
import { SqliteSpendBatch } from './sqliteSpendBatch.ts';
import { SqliteUsageWriter } from './sqliteUsageWriter.ts';

export interface SqliteMeteringDeps {
  storage: SqliteStorage;
  accounts: SqliteAccounts;
  journal: SqliteJournalWriter;
  clock: Clock;
  epochSeconds: number;
  /** The owner recorded on every reservation this instance makes. */
  instanceId: string;
}

export class SqliteMetering implements MeteringLedger {
  private readonly storage: SqliteStorage;
  private readonly accounts: SqliteAccounts;
  private readonly journal: SqliteJournalWriter;
  private readonly clock: Clock;
  private readonly epochSeconds: number;
  private readonly instanceId: string;
  private readonly stmt: PreparedCatalog<typeof meteringStatements>;
  private readonly keyLimits: SqliteKeyLimits;
  /** Key, project and organization counters, written once per row per transaction (see sqliteSpendBatch.ts). */
  private readonly spend: SqliteSpendBatch;
  private readonly usage: SqliteUsageWriter;

  constructor(deps: SqliteMeteringDeps) {
    this.storage = deps.storage;
    this.accounts = deps.accounts;
    this.journal = deps.journal;
    this.clock = deps.clock;
    this.epochSeconds = deps.epochSeconds;
    this.instanceId = deps.instanceId;
    this.stmt = deps.storage.prepare(meteringStatements);
    this.spend = new SqliteSpendBatch(deps.storage);
    this.keyLimits = new SqliteKeyLimits(deps.storage, this.spend);
    this.usage = new SqliteUsageWriter(deps.storage);
  }

  async spendable(input: { accountId: string; keyId: string | null; model?: string }): Promise<Spendable> {
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const month = monthAt(now);
    const tree = input.keyId ? this.treeOf(input.accountId, input.keyId, input.model ?? null, now, epoch, month) : null;
    const available = this.available(input.accountId, epoch);
    const sources = headroomsOf(available, combinedCaps(tree?.levels ?? noLevelCaps));
    let best = sources[0]!;
    for (const s of sources) if (s.headroomNano > best.headroomNano) best = s;
    return { sources, maxNano: best.headroomNano, source: best.headroomNano > 0n ? best.source : null };
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const resolved = validateReserveInput(input);
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const month = monthAt(now);
    return this.storage.write(() => this.reserveNow(input, resolved, now, epoch, month));
  }

  async settle(input: SettleInput): Promise<SettleResult> {
    const actualNano = validateSettleInput(input);
    const now = this.clock();
    return this.storage.write(() => {
      const id = /^\d{1,18}$/.test(input.reservationId) ? BigInt(input.reservationId) : -1n;
      const row = this.stmt.settleReservation.get(
        actualNano,
        now,
        id,
        input.response ?? null,
        input.priceSheetHash ?? null,
      );
      if (!row) return { reservation: this.settledBefore(input.reservationId, actualNano), replayed: true };
      const reservation = toReservation(row);
      const chargedNano = reservation.chargedNano!;
      const lossNano = reservation.lossNano!;
      this.release(reservation, row, chargedNano);
      this.usage.insert(reservation, input.lines, allocateCharge(input.lines, chargedNano), input.latencyMs, now);
      const txnId = `settle:${reservation.id}`;
      if (chargedNano > 0n) {
        const payer = ledgerAccountOf(reservation.accountId, reservation.source, reservation.epoch);
        this.journal.pair(txnId, 'CHARGE', payer, operatorRevenue, chargedNano, reservation.id, now);
      }
      if (lossNano > 0n) this.journal.pair(txnId, 'LOSS', operatorLoss, operatorRevenue, lossNano, reservation.id, now);
      return { reservation, replayed: false };
    });
  }

  async void(reservationId: string, loss?: OperatorLoss): Promise<Reservation> {
    const lossNano = loss === undefined ? null : validateLoss(loss);
    const now = this.clock();
    return this.storage.write(() => {
      const row = this.requireReservationRow(reservationId);
      const reservation = toReservation(row);
      if (reservation.status === 'VOIDED' || reservation.status === 'EXPIRED') return reservation;
      if (reservation.status === 'SETTLED') {
        throw new ConflictError('reservation already settled', { code: 'already_settled' });
      }
      const voided = this.finishUnpaid(reservation, row, 'VOIDED', now);
      if (loss === undefined || lossNano === null) return voided;
      return this.recordLoss(voided, loss, lossNano, now);
    });
  }

  async expireReservations(limit: number = ledgerLimits.expireBatchSizeMax): Promise<number> {
    const now = this.clock();
    return this.storage.write(() => {
      const rows = this.stmt.expiredReservations.all(now, Math.min(limit, ledgerLimits.expireBatchSizeMax));
      for (const row of rows) this.finishUnpaid(toReservation(row), row, 'EXPIRED', now);
      return rows.length;
    });
  }

  async renewHolds(ttlMs: number): Promise<number> {
    validateHoldTtl(ttlMs);
    const now = this.clock();
    return this.storage.write(() => Number(this.stmt.renewHolds.run(now + ttlMs, this.instanceId).changes));
  }

  async voidHoldsOfOtherInstances(): Promise<number> {
    const now = this.clock();
    return this.storage.write(() => {
      const rows = this.stmt.holdsOfOthers.all(this.instanceId);
      for (const row of rows) this.finishUnpaid(toReservation(row), row, 'VOIDED', now);
      return rows.length;
    });
  }

  async keyLimitUsage(keyId: string): Promise<KeyLimitUsage[]> {
    const key = this.accounts.readKey(keyId);
    if (!key) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    const now = this.clock();
    return this.keyLimits.usage(keyId, key.limits, epochAt(now, this.epochSeconds), monthAt(now));
  }

  async getReservation(reservationId: string): Promise<Reservation | null> {
    const row = /^\d{1,18}$/.test(reservationId) ? this.stmt.reservation.get(BigInt(reservationId)) : undefined;
    return row ? toReservation(row) : null;
  }

  // ── internals (always inside a transaction when they write) ──────────────────────────────────────────────

  private reserveNow(
    input: ReserveInput,
    resolved: ResolvedReserve,
    now: number,
    epoch: number,
    month: string,
  ): ReserveResult {
    const state = this.stmt.reserveState.get(input.accountId, epoch, input.idempotencyKey)!;
    if (state.credits === null) throw new NotFoundError('account not found', { code: 'account_not_found' });
    if (state.existing !== null) return this.replay(state.existing as bigint, input);
    const available: Record<FundingSource, NanoUsd> = {
      DIEM: (state.diem as bigint | null) ?? 0n,
      CREDITS: state.credits as bigint,
      USD: (state.usd as bigint | null) ?? 0n,
    };
    const tree = input.keyId ? this.treeOf(input.accountId, input.keyId, input.model, now, epoch, month) : null;
    const levels = tree?.levels ?? noLevelCaps;
    const { amountNano, minAmountNano } = resolved;
    const choice = chooseSource(headroomsOf(available, combinedCaps(levels)), amountNano, minAmountNano);
    if (!choice) {
      const level = refusalLevelOf(available, levels, minAmountNano);
      throw treeRefusal(level, available, amountNano, minAmountNano, tree?.key.usage ?? [], tree?.budgets ?? []);
    }
    const reservation: Reservation = {
      id: '',
      accountId: input.accountId,
      keyId: input.keyId,
      idempotencyKey: input.idempotencyKey,
      requestId: resolved.requestId,
      requestHash: resolved.requestHash,
      owner: this.instanceId,
      model: input.model,
      source: choice.source,
      epoch,
      month,
      amountNano: choice.amountNano,
      status: 'RESERVED',
      chargedNano: null,
      lossNano: null,
      createdAtMs: now,
      expiresAtMs: now + resolved.ttlMs,
      finishedAtMs: null,
    };
    this.hold(reservation, tree?.key.usage != null, tree?.key ?? null);
    available[choice.source] -= choice.amountNano;
    if (available.DIEM < 0n) available.DIEM = 0n;
    const headroom = headroomAfterHold(levels, available, choice.source, choice.amountNano);
    return { reservation, replayed: false, available, headroom };
  }

  /** A reserve under a used idempotency key: the earlier reservation (and its stored answer once settled). */
  private replay(existingId: bigint, input: ReserveInput): ReserveResult {
    const existing = replayOf(toReservation(this.stmt.reservation.get(existingId)!), input);
    const response =
      existing.status === 'SETTLED'
        ? ((this.stmt.response.get(existingId)?.response as string | null | undefined) ?? null)
        : null;
    return { reservation: existing, replayed: true, response };
  }

  /**
   * Holds a new reservation's amount on its source, its key's counters when `counted`, and its project's and
   * organization's counters when the key is in a project; and records it.
   */
  private hold(reservation: Reservation, counted: boolean, key: KeyInUse | null): void {
    const { accountId, keyId, source, amountNano, epoch, month } = reservation;
    if (source === 'DIEM') this.stmt.holdDiem.run(amountNano, accountId, epoch);
    else this.stmt.holdBalance.run(amountNano, accountId, source);
    const [e, m, l] = periodKeysOf(epoch, month);
    const cls = limitCurrencyOf(source);
    // A counted reservation moves its source's class counters in each period: a limit of any currency, added later,
    // then finds the key's spend already counted (a TOTAL limit reads both classes).
    if (counted && keyId) for (const p of [e, m, l]) this.spend.addKey(keyId, cls, p, 0n, amountNano);
    const projectId = key?.projectId ?? null;
    const orgId = key?.orgId ?? null;
    // A project key's reservation counts for its project and its organization, per period of a budget, in its
    // source's spend class, whether or not they have budgets (a budget set later sees the period's spend).
    if (projectId !== null && orgId !== null) {
      for (const p of [e, m]) {
        this.spend.addBudget(projectId, cls, p, 0n, amountNano);
        this.spend.addBudget(orgId, cls, p, 0n, amountNano);
      }
    }
    const inserted = this.stmt.insertReservation.run(
      accountId,
      keyId,
      reservation.idempotencyKey,
      reservation.requestId,
      reservation.requestHash,
      reservation.owner,
      reservation.model,
      source,
      epoch,
      month,
      amountNano,
      reservation.createdAtMs,
      reservation.expiresAtMs,
      counted ? 1 : 0,
      projectId,
      orgId,
    );
    reservation.id = String(inserted.lastInsertRowid);
  }

  /** A settle that found no live reservation: a replay of the same settle, or a typed error saying why not. */
  private settledBefore(reservationId: string, actualNano: NanoUsd): Reservation {
    const reservation = toReservation(this.requireReservationRow(reservationId));
    if (reservation.status === 'SETTLED') {
      if (reservation.chargedNano! + reservation.lossNano! === actualNano) return reservation;
      throw new ConflictError('reservation already settled with another cost', { code: 'already_settled' });
    }
    throw new ConflictError(`reservation is ${reservation.status.toLowerCase()}`, { code: 'reservation_not_active' });
  }

  private requireReservationRow(reservationId: string): Row {
    const row = /^\d{1,18}$/.test(reservationId) ? this.stmt.reservation.get(BigInt(reservationId)) : undefined;
    if (!row) throw new NotFoundError('reservation not found', { code: 'reservation_not_found' });
    return row;
  }

  private available(accountId: string, epoch: number): Record<FundingSource, NanoUsd> {
    const rows = this.stmt.sources.all(accountId, epoch);
    if (rows.length === 0) throw new NotFoundError('account not found', { code: 'account_not_found' });
    const available: Record<FundingSource, NanoUsd> = { DIEM: 0n, CREDITS: 0n, USD: 0n };
    for (const row of rows) available[row.source as FundingSource] = row.available_nano as bigint;
    return available;
  }

  /**
   * Returns a reservation's hold to its source, and to its key's counters when they count it, moving `chargedNano`
   * of it to spent.
   */
  private release(reservation: Reservation, row: Row, chargedNano: NanoUsd): void {
    const { accountId, amountNano, source, epoch } = reservation;
    if (source === 'DIEM') this.stmt.releaseDiem.run(amountNano, chargedNano, accountId, epoch);
    else this.stmt.releaseBalance.run(amountNano, chargedNano, accountId, source);
    const [e, m, l] = periodKeysOf(epoch, reservation.month);
    const cls = limitCurrencyOf(source);
    if (row.counted === 1n && reservation.keyId) {
      for (const p of [e, m, l]) this.spend.addKey(reservation.keyId, cls, p, chargedNano, -amountNano);
    }
    if (typeof row.project_id === 'string') {
      for (const p of [e, m]) {
        this.spend.addBudget(row.project_id, cls, p, chargedNano, -amountNano);
        this.spend.addBudget(row.org_id as string, cls, p, chargedNano, -amountNano);
      }
    }
  }

  /** A key's limits with their use and its budget tree's caps; checks the key may be used now. */
  private treeOf(accountId: string, keyId: string, model: string | null, now: number, epoch: number, month: string) {
    const key = this.keyLimits.inUse(accountId, keyId, model, now, epoch, month);
    const budgets =
      key.projectId !== null && key.orgId !== null
        ? this.keyLimits.budgets(key.projectId, key.orgId, epoch, month)
        : [];
    return { key, budgets, levels: levelCapsOf(headroomOf(key.usage), budgets) };
  }

  /** A void's operator loss: its lines at list price charged 0, the LOSS pair, and the reservation's loss. */
  private recordLoss(voided: Reservation, loss: OperatorLoss, lossNano: NanoUsd, now: number): Reservation {
    this.stmt.voidLoss.run(lossNano, BigInt(voided.id));
    this.usage.insert(
      voided,
      loss.lines,
      loss.lines.map(() => 0n),
      loss.latencyMs,
      now,
    );
    if (lossNano > 0n) {
      this.journal.pair(`void:${voided.id}`, 'LOSS', operatorLoss, operatorRevenue, lossNano, voided.id, now);
    }
    return { ...voided, chargedNano: 0n, lossNano };
  }

  private finishUnpaid(reservation: Reservation, row: Row, status: 'VOIDED' | 'EXPIRED', now: number): Reservation {
    this.release(reservation, row, 0n);
    this.stmt.finishUnpaid.run(status, now, BigInt(reservation.id));
    return { ...reservation, status, finishedAtMs: now };
  }
}
