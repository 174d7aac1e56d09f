/**
 * Two-phase metering on PostgreSQL. The hot path is one round trip per operation: reserve, settle, void and expire
 * each call one ledger function (functions.ts, for the locking rules). Concurrent reserves, settles and voids share
 * that round trip and its transaction (group commit through `perdiem_batch`, see postgres/batcher.ts); a lone call
 * goes at once.
 */
import { epochAt, monthAt } from '../../core/epoch.ts';
import { ConflictError, InsufficientFundsError, NotFoundError } from '../../core/errors.ts';
import { timeOrderedHex } from '../../core/ids.ts';
import { checkKeyUsable } from '../accounts/accountRules.ts';
import type { KeyLimitUsage } from '../accounts/accountsLedger.ts';
import { readKey } from '../accounts/postgresAccounts.ts';
import { availableOf, readSources } from '../funding/postgresSources.ts';
import { ledgerLimits } from '../limits.ts';
import { Batcher } from '../postgres/batcher.ts';
import { mapped } from '../postgres/dbErrors.ts';
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import { toReservation } from '../rows.ts';
import type { BudgetLevel } from '../teams/teamsLedger.ts';
import { combinedCaps, levelCapsOf, refusalCodes, treeRefusal } from './budgetRules.ts';
import { headroomsOf, type KeyHeadroom, keyHeadroomOf, noKeyHeadroom } from './keyLimitRules.ts';
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
import { validateHoldTtl, validateLoss, validateReserveInput, validateSettleInput } from './meteringRules.ts';
import { budgetsOfKey } from './postgresBudgets.ts';
import {
  finishUnpaid,
  type HotOp,
  type HotResult,
  type ReserveCall,
  reserveAlone,
  runHotBatch,
  settleAlone,
  voidAlone,
} from './postgresHotBatch.ts';
import { limitUsage } from './postgresKeySpend.ts';

/** The level of a refusal code the ledger functions raise. */
const levelOfCode = new Map(Object.entries(refusalCodes).map(([level, code]) => [code, level as BudgetLevel]));

export class PostgresMetering implements MeteringLedger {
  private readonly storage: LedgerStorage;
  /** Reserves, settles and voids share one group commit, so that concurrent calls keep the order they came in. */
  private readonly hot: Batcher<HotOp, HotResult>;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
    this.hot = new Batcher(
      (op) => this.runOne(op),
      (ops) => runHotBatch(this.sql, storage.instanceId, ops),
    );
  }

  private get sql(): Sql {
    return this.storage.sql;
  }

  async spendable(input: { accountId: string; keyId: string | null; model?: string }): Promise<Spendable> {
    const now = this.storage.clock();
    const epoch = epochAt(now, this.storage.epochSeconds);
    const available = availableOf(await readSources(this.sql, input.accountId, epoch));
    const month = monthAt(now);
    const keyHeadroom: KeyHeadroom = input.keyId
      ? await this.keyHeadroom(input.accountId, input.keyId, input.model ?? null, now, epoch, month)
      : noKeyHeadroom;
    const budgets = input.keyId ? await budgetsOfKey(this.sql, input.keyId, epoch, month) : [];
    const sources = headroomsOf(available, combinedCaps(levelCapsOf(keyHeadroom, budgets)));
    let best = sources[0]!;
    for (const s of sources) if (s.headroomNano > best.headroomNano) best = s;
    return { sources, maxNano: best.headroomNano, source: best.headroomNano > 0n ? best.source : null };
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const { amountNano, minAmountNano, ttlMs, requestId, requestHash } = validateReserveInput(input);
    const now = this.storage.clock();
    const call: ReserveCall = {
      id: timeOrderedHex(now),
      input,
      requestId,
      requestHash,
      amountNano,
      minAmountNano,
      now,
      expiresAtMs: now + ttlMs,
      epoch: epochAt(now, this.storage.epochSeconds),
      month: monthAt(now),
    };
    return this.hot.run({ kind: 'reserve', call }) as Promise<ReserveResult>;
  }

  async settle(input: SettleInput): Promise<SettleResult> {
    validateSettleInput(input);
    return this.hot.run({ kind: 'settle', call: { input, now: this.storage.clock() } }) as Promise<SettleResult>;
  }

  async void(reservationId: string, loss?: OperatorLoss): Promise<Reservation> {
    if (loss !== undefined) validateLoss(loss);
    const op: HotOp = { kind: 'void', id: reservationId, now: this.storage.clock(), ...(loss ? { loss } : {}) };
    return this.hot.run(op) as Promise<Reservation>;
  }

  async expireReservations(limit: number = ledgerLimits.expireBatchSizeMax): Promise<number> {
    const now = this.storage.clock();
    const due = await this.sql`SELECT id FROM reservations WHERE status = 'RESERVED' AND expires_at_ms <= ${now}
      ORDER BY expires_at_ms LIMIT ${Math.min(limit, ledgerLimits.expireBatchSizeMax)}`;
    let expired = 0;
    for (const { id } of due) if (await mapped(() => finishUnpaid(this.sql, id, now, 'EXPIRED'))) expired++;
    return expired;
  }

  async renewHolds(ttlMs: number): Promise<number> {
    const until = this.storage.clock() + validateHoldTtl(ttlMs);
    // Locked in id order, as a batch locks the reservations it finishes, so that a renewal never deadlocks one.
    const renewed = await this.sql`WITH held AS (SELECT id FROM reservations
        WHERE owner = ${this.storage.instanceId} AND status = 'RESERVED' AND expires_at_ms < ${until}
        ORDER BY id FOR UPDATE)
      UPDATE reservations r SET expires_at_ms = ${until} FROM held WHERE r.id = held.id`;
    return renewed.count;
  }

  async voidHoldsOfOtherInstances(): Promise<number> {
    const now = this.storage.clock();
    let voided = 0;
    // Pages in id order over what was made until now, so that the walk ends whatever is reserved meanwhile.
    for (let after = ''; ; ) {
      const held = await this.sql`SELECT id FROM reservations
        WHERE status = 'RESERVED' AND (owner IS NULL OR owner <> ${this.storage.instanceId}) AND created_at_ms <= ${now}
          AND id > ${after} ORDER BY id LIMIT ${ledgerLimits.expireBatchSizeMax}`;
      for (const { id } of held) {
        try {
          if (await mapped(() => finishUnpaid(this.sql, id as string, now, 'VOIDED'))) voided++;
        } catch (error) {
          // Settled since it was listed: nothing is held any more.
          if (!(error instanceof ConflictError && error.code === 'already_settled')) throw error;
        }
      }
      if (held.length < ledgerLimits.expireBatchSizeMax) return voided;
      after = held.at(-1)!.id as string;
    }
  }

  async keyLimitUsage(keyId: string): Promise<KeyLimitUsage[]> {
    const [key] = await this.sql`SELECT 1 FROM api_keys WHERE id = ${keyId}`;
    if (!key) throw new NotFoundError('API key not found', { code: 'key_not_found' });
    const now = this.storage.clock();
    return limitUsage(this.sql, keyId, epochAt(now, this.storage.epochSeconds), monthAt(now));
  }

  async getReservation(reservationId: string): Promise<Reservation | null> {
    const [row] = await this.sql`SELECT * FROM reservations WHERE id = ${reservationId}`;
    return row ? toReservation(row) : null;
  }

  private runOne(op: HotOp): Promise<HotResult> {
    if (op.kind === 'reserve') return this.reserveOne(op.call);
    if (op.kind === 'settle') return mapped(() => settleAlone(this.sql, op.call));
    return mapped(() => voidAlone(this.sql, op.id, op.now, op.loss));
  }

  private async reserveOne(call: ReserveCall): Promise<ReserveResult> {
    try {
      return await mapped(() => reserveAlone(this.sql, this.storage.instanceId, call));
    } catch (error) {
      const level = error instanceof InsufficientFundsError ? levelOfCode.get(error.code) : undefined;
      if (level === undefined || level === 'source' || call.input.keyId === null) throw error;
      throw await this.treeRefusal(call, level);
    }
  }

  /**
   * The 402 of a reserve that the balance covers but a level of the tree does not (the function decided which),
   * naming the limit or budget that stops it (read after the refusal: it explains, it decides nothing).
   */
  private async treeRefusal(call: ReserveCall, level: BudgetLevel): Promise<InsufficientFundsError> {
    const keyId = call.input.keyId!;
    const available = availableOf(await readSources(this.sql, call.input.accountId, call.epoch));
    const usage = level === 'key' ? await limitUsage(this.sql, keyId, call.epoch, call.month) : [];
    const budgets = level === 'key' ? [] : await budgetsOfKey(this.sql, keyId, call.epoch, call.month);
    return treeRefusal(level, available, call.amountNano, call.minAmountNano, usage, budgets);
  }

  private async keyHeadroom(
    accountId: string,
    keyId: string,
    model: string | null,
    now: number,
    epoch: number,
    month: string,
  ): Promise<KeyHeadroom> {
    const key = checkKeyUsable(await readKey(this.sql, keyId), accountId, model, now);
    if (key.limits.length === 0) return noKeyHeadroom;
    const usage = await limitUsage(this.sql, keyId, epoch, month);
    return keyHeadroomOf(usage.map((limit) => ({ limit, usedNano: limit.spentNano + limit.reservedNano })));
  }
}
