/**
 * The metering hot path's operations on PostgreSQL, as the group commit (postgres/batcher.ts) carries them: each
 * operation alone is one call of its ledger function; many go in one call of `perdiem_batch` (functions.ts), whose
 * arrays this module lays out.
 */
import type { NanoUsd } from '../../core/money.ts';
import type { Sql } from '../postgres/pool.ts';
import { variableOf } from '../postgres/ruleSql.ts';
import { type Row, toReservation } from '../rows.ts';
import type { BudgetLevel } from '../teams/teamsLedger.ts';
import { type FundingSource, fundingSourceOrder } from '../vocabulary.ts';
import type {
  OperatorLoss,
  Reservation,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
  UsageLineInput,
} from './meteringLedger.ts';

/** A reserve with everything the database needs, fixed when the caller made it (its time, its reservation id). */
export interface ReserveCall {
  id: string;
  input: ReserveInput;
  requestId: string;
  requestHash: string | null;
  amountNano: NanoUsd;
  minAmountNano: NanoUsd;
  now: number;
  expiresAtMs: number;
  epoch: number;
  month: string;
}

export interface SettleCall {
  input: SettleInput;
  now: number;
}

export type HotOp =
  | { kind: 'reserve'; call: ReserveCall }
  | { kind: 'settle'; call: SettleCall }
  | { kind: 'void'; id: string; now: number; loss?: OperatorLoss };
export type HotResult = ReserveResult | SettleResult | Reservation;

/** The batch's code of an operation: a void with operator loss is 'L'. */
function kindCode(op: HotOp): 'R' | 'S' | 'V' | 'L' {
  if (op.kind === 'reserve') return 'R';
  if (op.kind === 'settle') return 'S';
  return op.loss === undefined ? 'V' : 'L';
}

/** The usage lines an operation carries: a settle's, or a void's operator loss. */
function linesOf(op: HotOp): UsageLineInput[] {
  if (op.kind === 'settle') return op.call.input.lines;
  return op.kind === 'void' ? (op.loss?.lines ?? []) : [];
}

function latencyOf(op: HotOp): number | null {
  if (op.kind === 'settle') return op.call.input.latencyMs;
  return op.kind === 'void' ? (op.loss?.latencyMs ?? null) : null;
}

/** Many hot-path operations in one call and one transaction (see perdiem_batch); results in call order. */
export async function runHotBatch(sql: Sql, owner: string, ops: HotOp[]): Promise<HotResult[]> {
  const reserve = (op: HotOp) => (op.kind === 'reserve' ? op.call : null);
  const lines = ops.flatMap(linesOf);
  const text = (f: (op: HotOp) => string | null | undefined) => ops.map((op) => f(op) ?? null);
  const big = (f: (op: HotOp) => bigint | number | null | undefined) =>
    ops.map((op) => {
      const value = f(op);
      return value === null || value === undefined ? null : String(value);
    });
  const rows = await sql`SELECT * FROM perdiem_batch(
    ${ops.map(kindCode)}::text[],
    ${text((op) => (op.kind === 'reserve' ? op.call.id : op.kind === 'settle' ? op.call.input.reservationId : op.id))}::text[],
    ${text((op) => reserve(op)?.input.accountId)}::text[], ${text((op) => reserve(op)?.input.keyId)}::text[],
    ${text((op) => reserve(op)?.input.idempotencyKey)}::text[], ${text((op) => reserve(op)?.requestId)}::text[],
    ${text((op) => reserve(op)?.requestHash)}::text[], ${owner}::text,
    ${text((op) => reserve(op)?.input.model)}::text[],
    ${big((op) => reserve(op)?.amountNano)}::bigint[], ${big((op) => reserve(op)?.minAmountNano)}::bigint[],
    ${big((op) => (op.kind === 'void' ? op.now : op.call.now))}::bigint[],
    ${big((op) => reserve(op)?.expiresAtMs)}::bigint[], ${big((op) => reserve(op)?.epoch)}::bigint[],
    ${text((op) => reserve(op)?.month)}::text[],
    ${ops.map((op) => linesOf(op).length)}::integer[],
    ${lines.map((l) => l.sku)}::text[], ${lines.map((l) => String(l.units))}::bigint[],
    ${lines.map((l) => l.unitPriceNano.toString())}::bigint[], ${lines.map((l) => String(l.priceUnit))}::bigint[],
    ${lines.map((l) => l.amountNano.toString())}::bigint[],
    ${ops.map(latencyOf)}::integer[],
    ${text((op) => (op.kind === 'settle' ? op.call.input.response : null))}::text[],
    ${text((op) => (op.kind === 'settle' ? op.call.input.priceSheetHash : null))}::text[])`;
  const out: HotResult[] = new Array(ops.length);
  for (const row of rows) {
    const op = ops[Number(row.ord) - 1]!;
    out[Number(row.ord) - 1] =
      op.kind === 'reserve'
        ? reserveResultOf(row)
        : op.kind === 'void'
          ? toReservation(row)
          : { reservation: toReservation(row), replayed: row.replayed as boolean };
  }
  for (let i = 0; i < ops.length; i++)
    if (out[i] === undefined) throw new Error(`batched call ${i + 1} returned no row`);
  return out;
}

/** One reserve alone: one call of perdiem_reserve. */
export async function reserveAlone(sql: Sql, owner: string, call: ReserveCall): Promise<ReserveResult> {
  const { input } = call;
  const [row] = await sql`SELECT * FROM perdiem_reserve(${call.id}, ${input.accountId}, ${input.keyId},
    ${input.idempotencyKey}, ${call.requestId}, ${call.requestHash}, ${owner}, ${input.model},
    ${call.amountNano}, ${call.minAmountNano}, ${call.now}, ${call.expiresAtMs}, ${call.epoch}, ${call.month})`;
  return reserveResultOf(row!);
}

/** One settle alone: one call of perdiem_settle. */
export async function settleAlone(sql: Sql, { input, now }: SettleCall): Promise<SettleResult> {
  const lines = input.lines;
  const [row] = await sql`SELECT * FROM perdiem_settle(${input.reservationId}, ${now},
    ${lines.map((l) => l.sku)}::text[], ${lines.map((l) => String(l.units))}::bigint[],
    ${lines.map((l) => l.unitPriceNano.toString())}::bigint[], ${lines.map((l) => String(l.priceUnit))}::bigint[],
    ${lines.map((l) => l.amountNano.toString())}::bigint[], ${input.latencyMs}::integer,
    ${input.response ?? null}::text, ${input.priceSheetHash ?? null}::text)`;
  return { reservation: toReservation(row!), replayed: row!.replayed as boolean };
}

/** One void alone: one call of perdiem_finish_unpaid, or of perdiem_void_with_loss with the operator's loss. */
export async function voidAlone(sql: Sql, id: string, now: number, loss?: OperatorLoss): Promise<Reservation> {
  if (loss === undefined) {
    const [row] = await sql`SELECT * FROM perdiem_finish_unpaid(${id}, ${now}, 'VOIDED')`;
    return toReservation(row!);
  }
  const lines = loss.lines;
  const [row] = await sql`SELECT * FROM perdiem_void_with_loss(${id}, ${now},
    ${lines.map((l) => l.sku)}::text[], ${lines.map((l) => String(l.units))}::bigint[],
    ${lines.map((l) => l.unitPriceNano.toString())}::bigint[], ${lines.map((l) => String(l.priceUnit))}::bigint[],
    ${lines.map((l) => l.amountNano.toString())}::bigint[], ${loss.latencyMs}::integer)`;
  return toReservation(row!);
}

/**
 * Voids or expires one reservation in its own transaction (the lock order of a settle, so that a sweep never
 * deadlocks a request); false when there was nothing to do.
 */
export async function finishUnpaid(sql: Sql, id: string, now: number, status: 'VOIDED' | 'EXPIRED'): Promise<boolean> {
  const [row] = await sql`SELECT changed FROM perdiem_finish_unpaid(${id}, ${now}, ${status})`;
  return row?.changed === true;
}

/**
 * A perdiem_reserve row: the reservation, what each source has left after its hold and the tightest level left; for
 * a replay, the answer stored with the earlier attempt's settle instead.
 */
function reserveResultOf(row: Row): ReserveResult {
  const result: ReserveResult = { reservation: toReservation(row), replayed: row.replayed as boolean };
  if (result.replayed) result.response = (row.response as string | null) ?? null;
  if (result.replayed) return result;
  result.available = Object.fromEntries(
    fundingSourceOrder.map((source) => [source, row[variableOf('available', source)] as bigint]),
  ) as Record<FundingSource, NanoUsd>;
  result.headroom = { level: row.headroom_level as BudgetLevel, remainingNano: row.headroom_nano as bigint };
  return result;
}
