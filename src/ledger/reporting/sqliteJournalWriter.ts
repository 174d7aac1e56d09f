/**
 * Appends double-entry pairs to the journal, inside the caller's transaction: funding (top-ups, allowances) and
 * metering (charges, losses) write through it, reporting reads what it wrote. Its one statement is defined here once.
 */
import type { StatementSync } from 'node:sqlite';
import type { NanoUsd } from '../../core/money.ts';
import type { SqliteStorage } from '../sqlite/sqliteStorage.ts';
import type { JournalEntry } from './reportingLedger.ts';

const insertJournalPair = `INSERT INTO journal_entries (txn_id, kind, ledger_account, side, amount_nano, reservation_id,
    created_at_ms) VALUES (?1, ?2, ?3, 'DEBIT', ?5, ?6, ?7), (?1, ?2, ?4, 'CREDIT', ?5, ?6, ?7)`;

export class SqliteJournalWriter {
  private readonly insertPair: StatementSync;

  constructor(storage: SqliteStorage) {
    this.insertPair = storage.prepareOne(insertJournalPair);
  }

  /** One transaction of two legs: `amountNano` debited from `debit` and credited to `credit`. */
  pair(
    txnId: string,
    kind: JournalEntry['kind'],
    debit: string,
    credit: string,
    amountNano: NanoUsd,
    reservationId: string | null,
    now: number,
  ): void {
    this.insertPair.run(txnId, kind, debit, credit, amountNano, reservationId, now);
  }
}
