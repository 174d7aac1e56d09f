/** Writes a settle's usage lines, in the settle's transaction: one multi-row INSERT, prepared once per line count. */
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { NanoUsd } from '../../core/money.ts';
import type { SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { limitCurrencyOf } from '../vocabulary.ts';
import type { Reservation, UsageLineInput } from './meteringLedger.ts';

const insertUsagePrefix = `INSERT INTO usage_records (reservation_id, request_id, account_id, key_id, model, sku, units,
  unit_price_nano, price_unit, list_amount_nano, amount_nano, currency, source, latency_ms, epoch, created_at_ms) VALUES`;
const usageColumnCount = 16;

export class SqliteUsageWriter {
  private readonly storage: SqliteStorage;
  private readonly insertStatements = new Map<number, StatementSync>();

  constructor(storage: SqliteStorage) {
    this.storage = storage;
  }

  /** Every usage line of a settle, each with its share of the charge (`charges`, in line order). */
  insert(
    reservation: Reservation,
    lines: UsageLineInput[],
    charges: NanoUsd[],
    latencyMs: number | null,
    now: number,
  ): void {
    if (lines.length === 0) return;
    const currency = limitCurrencyOf(reservation.source);
    const values: SQLInputValue[] = [];
    lines.forEach((line, i) => {
      values.push(
        reservation.id,
        reservation.requestId,
        reservation.accountId,
        reservation.keyId,
        reservation.model,
        line.sku,
        line.units,
        line.unitPriceNano,
        line.priceUnit,
        line.amountNano,
        charges[i]!,
        currency,
        reservation.source,
        latencyMs,
        reservation.epoch,
        now,
      );
    });
    this.statementFor(lines.length).run(...values);
  }

  private statementFor(lineCount: number): StatementSync {
    let statement = this.insertStatements.get(lineCount);
    if (!statement) {
      const row = `(${Array.from({ length: usageColumnCount }, () => '?').join(', ')})`;
      statement = this.storage.db.prepare(
        `${insertUsagePrefix} ${Array.from({ length: lineCount }, () => row).join(', ')}`,
      );
      this.insertStatements.set(lineCount, statement);
    }
    return statement;
  }
}
