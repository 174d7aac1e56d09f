/** The SQLite adapter of allowances, fundings and balances. Its writes run at once (`tx`), off the hot path. */
import { randomUUID } from 'node:crypto';
import { type Clock, epochAt, nextEpochBegins } from '../../core/epoch.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { NanoUsd } from '../../core/money.ts';
import { normaliseWallet, walletNotLinked } from '../accounts/accountRules.ts';
import type { SqliteAccounts } from '../accounts/sqliteAccounts.ts';
import { ledgerLimits } from '../limits.ts';
import { fundingAccountOf, ledgerAccountOf } from '../metering/meteringRules.ts';
import type { SqliteJournalWriter } from '../reporting/sqliteJournalWriter.ts';
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
import type { AddFundsInput, Balance, Funding, FundingLedger } from './fundingLedger.ts';
import { validateAllowance, validateSnapshotBlock } from './fundingRules.ts';

const fundingStatements = {
  snapshotBlock: 'SELECT block_number FROM allowance_snapshots WHERE epoch = ?',
  claimSnapshotBlock: `INSERT INTO allowance_snapshots (epoch, block_number, claimed_at_ms) VALUES (?, ?, ?)
    ON CONFLICT (epoch) DO NOTHING`,
  // An account's whole balance in one statement: the gateway reads it for the x-balance-* headers of every request.
  balance: `SELECT c.available_nano AS credits_available, c.reserved_nano AS credits_reserved,
      u.available_nano AS usd_available, u.reserved_nano AS usd_reserved,
      d.allowance_nano AS diem_allowance, d.spent_nano AS diem_spent, d.reserved_nano AS diem_reserved
    FROM balances c JOIN balances u ON u.account_id = c.account_id AND u.source = 'USD'
      LEFT JOIN diem_allowances d ON d.account_id = c.account_id AND d.epoch = ?2
    WHERE c.account_id = ?1 AND c.source = 'CREDITS'`,
  diem: 'SELECT allowance_nano, direct_nano FROM diem_allowances WHERE account_id = ? AND epoch = ?',
  upsertDiem: `INSERT INTO diem_allowances (account_id, epoch, allowance_nano, direct_nano, spent_nano, reserved_nano)
    VALUES (?, ?, ?, ?, 0, 0)
    ON CONFLICT DO UPDATE SET allowance_nano = excluded.allowance_nano, direct_nano = excluded.direct_nano`,
  upsertWalletAllowance: `INSERT INTO wallet_allowances (address, epoch, allowance_nano) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET allowance_nano = excluded.allowance_nano`,
  walletsAllowance: `SELECT coalesce(sum(a.allowance_nano), 0) AS total FROM wallets w
    JOIN wallet_allowances a ON a.address = w.address AND a.epoch = ?2 WHERE w.account_id = ?1`,
  fund: 'UPDATE balances SET available_nano = available_nano + ? WHERE account_id = ? AND source = ?',
  insertFundingReference: `INSERT INTO funding_references (reference, account_id, source, amount_nano, created_at_ms)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  fundings: `SELECT reference, source, amount_nano, created_at_ms FROM funding_references
    WHERE account_id = ?1 AND (?2 IS NULL OR source = ?2) ORDER BY created_at_ms DESC, reference LIMIT ?3`,
} as const;

export class SqliteFunding implements FundingLedger {
  private readonly storage: SqliteStorage;
  private readonly accounts: SqliteAccounts;
  private readonly journal: SqliteJournalWriter;
  private readonly clock: Clock;
  private readonly epochSeconds: number;
  private readonly stmt: PreparedCatalog<typeof fundingStatements>;

  constructor(
    storage: SqliteStorage,
    accounts: SqliteAccounts,
    journal: SqliteJournalWriter,
    clock: Clock,
    epochSeconds: number,
  ) {
    this.storage = storage;
    this.accounts = accounts;
    this.journal = journal;
    this.clock = clock;
    this.epochSeconds = epochSeconds;
    this.stmt = storage.prepare(fundingStatements);
  }

  async setDiemAllowance(accountId: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    validateAllowance(epoch, allowanceNano);
    const now = this.clock();
    this.storage.tx(() => {
      this.accounts.requireAccount(accountId);
      this.writeDiemAllowance(accountId, epoch, allowanceNano, now);
    });
  }

  async setWalletAllowance(address: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    const wallet = normaliseWallet(address);
    validateAllowance(epoch, allowanceNano);
    const now = this.clock();
    this.storage.tx(() => {
      const accountId = this.accounts.accountOfWallet(wallet);
      if (accountId === null) throw walletNotLinked();
      this.stmt.upsertWalletAllowance.run(wallet, epoch, allowanceNano);
      this.writeDiemAllowance(accountId, epoch, null, now);
    });
  }

  async allowanceSnapshotBlock(epoch: number): Promise<bigint | null> {
    const row = this.stmt.snapshotBlock.get(epoch);
    return row ? (row.block_number as bigint) : null;
  }

  async claimAllowanceSnapshotBlock(epoch: number, blockNumber: bigint): Promise<bigint> {
    validateSnapshotBlock(epoch, blockNumber);
    const now = this.clock();
    // BEGIN IMMEDIATE: the insert and the read back see one writer at a time, also across processes.
    return this.storage.tx(() => {
      this.stmt.claimSnapshotBlock.run(epoch, blockNumber, now);
      return this.stmt.snapshotBlock.get(epoch)!.block_number as bigint;
    });
  }

  async addFunds(input: AddFundsInput): Promise<boolean> {
    if (input.amountNano <= 0n) throw new RangeError('funding amount must be positive');
    const now = this.clock();
    return this.storage.tx(() => {
      this.accounts.requireAccount(input.accountId);
      const inserted = this.stmt.insertFundingReference.run(
        input.reference,
        input.accountId,
        input.source,
        input.amountNano,
        now,
      );
      if (Number(inserted.changes) === 0) return false;
      this.stmt.fund.run(input.amountNano, input.accountId, input.source);
      this.journal.pair(
        `funding:${input.reference}`,
        'FUNDING',
        fundingAccountOf(input.source),
        ledgerAccountOf(input.accountId, input.source, 0),
        input.amountNano,
        null,
        now,
      );
      return true;
    });
  }

  async balance(accountId: string): Promise<Balance> {
    const now = this.clock();
    const epoch = epochAt(now, this.epochSeconds);
    const row = this.stmt.balance.get(accountId, epoch);
    if (!row) throw new NotFoundError('account not found', { code: 'account_not_found' });
    const allowanceNano = (row.diem_allowance as bigint | null) ?? 0n;
    const spentNano = (row.diem_spent as bigint | null) ?? 0n;
    const reservedNano = (row.diem_reserved as bigint | null) ?? 0n;
    const left = allowanceNano - spentNano - reservedNano;
    return {
      accountId,
      epoch,
      nextEpochBegins: nextEpochBegins(now, this.epochSeconds),
      diem: { allowanceNano, spentNano, reservedNano, availableNano: left > 0n ? left : 0n },
      credits: { availableNano: row.credits_available as bigint, reservedNano: row.credits_reserved as bigint },
      usd: { availableNano: row.usd_available as bigint, reservedNano: row.usd_reserved as bigint },
    };
  }

  async fundings(input: { accountId: string; source?: 'CREDITS' | 'USD'; limit?: number }): Promise<Funding[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    return this.stmt.fundings.all(input.accountId, input.source ?? null, limit).map((row) => ({
      reference: row.reference as string,
      source: row.source as Funding['source'],
      amountNano: row.amount_nano as bigint,
      createdAtMs: Number(row.created_at_ms),
    }));
  }

  /**
   * Sets the account's allowance for the epoch to its direct part (the given one, or the stored one when null) plus
   * its wallets' sum, and journals the change.
   */
  private writeDiemAllowance(accountId: string, epoch: number, directNano: NanoUsd | null, now: number): void {
    const row = this.stmt.diem.get(accountId, epoch);
    const before = (row?.allowance_nano as bigint | undefined) ?? 0n;
    const direct = directNano ?? (row?.direct_nano as bigint | undefined) ?? 0n;
    const after = direct + (this.stmt.walletsAllowance.get(accountId, epoch)!.total as bigint);
    if (row && after === before && direct === row.direct_nano) return;
    this.stmt.upsertDiem.run(accountId, epoch, after, direct);
    if (after === before) return;
    const grant = after > before;
    const [debit, credit] = [fundingAccountOf('DIEM'), ledgerAccountOf(accountId, 'DIEM', epoch)];
    this.journal.pair(
      `allowance:${randomUUID()}`,
      'ALLOWANCE',
      grant ? debit : credit,
      grant ? credit : debit,
      grant ? after - before : before - after,
      null,
      now,
    );
  }
}
