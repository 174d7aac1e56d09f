/**
 * Allowances, fundings and balances on PostgreSQL. Money coming in always commits synchronously, whatever the
 * metering path's `synchronous_commit`.
 */
import { randomUUID } from 'node:crypto';
import { epochAt, nextEpochBegins } from '../../core/epoch.ts';
import type { NanoUsd } from '../../core/money.ts';
import { normaliseWallet, walletNotLinked } from '../accounts/accountRules.ts';
import { requireAccount } from '../accounts/postgresAccounts.ts';
import { ledgerLimits } from '../limits.ts';
import { fundingAccountOf, ledgerAccountOf } from '../metering/meteringRules.ts';
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import type { JournalKind } from '../reporting/reportingLedger.ts';
import type { AddFundsInput, Balance, Funding, FundingLedger } from './fundingLedger.ts';
import { validateAllowance, validateSnapshotBlock } from './fundingRules.ts';
import { readSources } from './postgresSources.ts';

export class PostgresFunding implements FundingLedger {
  private readonly storage: LedgerStorage;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
  }

  private get sql(): Sql {
    return this.storage.sql;
  }

  async setDiemAllowance(accountId: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    validateAllowance(epoch, allowanceNano);
    await requireAccount(this.sql, accountId);
    const now = this.storage.clock();
    await this.sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = on`;
      const row = await lockDiemRow(tx as unknown as Sql, accountId, epoch);
      await writeDiemAllowance(tx as unknown as Sql, { accountId, epoch, row, directNano: allowanceNano, now });
    });
  }

  async setWalletAllowance(address: string, epoch: number, allowanceNano: NanoUsd): Promise<void> {
    const wallet = normaliseWallet(address);
    validateAllowance(epoch, allowanceNano);
    const now = this.storage.clock();
    await this.sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = on`;
      // Wallets are never relinked, so the owner read here stays the owner.
      const [owner] = await tx`SELECT account_id FROM wallets WHERE address = ${wallet}`;
      if (!owner) throw walletNotLinked();
      const accountId = owner.account_id as string;
      // The account's DIEM row is locked before the wallet's row is written: two wallets of one account written at
      // once are serialised there, so each sum includes the other's committed row.
      const row = await lockDiemRow(tx as unknown as Sql, accountId, epoch);
      await tx`INSERT INTO wallet_allowances (address, epoch, allowance_nano) VALUES (${wallet}, ${epoch}, ${allowanceNano})
        ON CONFLICT (address, epoch) DO UPDATE SET allowance_nano = excluded.allowance_nano`;
      await writeDiemAllowance(tx as unknown as Sql, { accountId, epoch, row, directNano: null, now });
    });
  }

  async allowanceSnapshotBlock(epoch: number): Promise<bigint | null> {
    const [row] = await this.sql`SELECT block_number FROM allowance_snapshots WHERE epoch = ${epoch}`;
    return row ? BigInt(row.block_number as string) : null;
  }

  async claimAllowanceSnapshotBlock(epoch: number, blockNumber: bigint): Promise<bigint> {
    validateSnapshotBlock(epoch, blockNumber);
    // Durable before it returns, as an allowance is: a snapshot forgotten in a crash would let the next feed take
    // another. A claim that meets a row waits for its writer to commit; the read after it is a new statement, with a
    // new snapshot (READ COMMITTED) that sees that row.
    return this.sql.begin(async (tx) => {
      await tx`SET LOCAL synchronous_commit = on`;
      const [won] = await tx`INSERT INTO allowance_snapshots (epoch, block_number, claimed_at_ms)
        VALUES (${epoch}, ${blockNumber}, ${this.storage.clock()}) ON CONFLICT (epoch) DO NOTHING RETURNING block_number`;
      if (won) return BigInt(won.block_number as string);
      const [stored] = await tx`SELECT block_number FROM allowance_snapshots WHERE epoch = ${epoch}`;
      return BigInt(stored!.block_number as string);
    }) as Promise<bigint>;
  }

  async addFunds(input: AddFundsInput): Promise<boolean> {
    if (input.amountNano <= 0n) throw new RangeError('funding amount must be positive');
    await requireAccount(this.sql, input.accountId);
    const now = this.storage.clock();
    return this.sql.begin(async (tx) => {
      const inserted =
        await tx`INSERT INTO funding_references (reference, account_id, source, amount_nano, created_at_ms)
        VALUES (${input.reference}, ${input.accountId}, ${input.source}, ${input.amountNano}, ${now})
        ON CONFLICT DO NOTHING RETURNING reference`;
      if (inserted.length === 0) return false;
      await tx`UPDATE balances SET available_nano = available_nano + ${input.amountNano}
        WHERE account_id = ${input.accountId} AND source = ${input.source}`;
      await journalPair(tx as unknown as Sql, {
        txnId: `funding:${input.reference}`,
        kind: 'FUNDING',
        debit: fundingAccountOf(input.source),
        credit: ledgerAccountOf(input.accountId, input.source, 0),
        amountNano: input.amountNano,
        now,
      });
      return true;
    }) as Promise<boolean>;
  }

  async balance(accountId: string): Promise<Balance> {
    const now = this.storage.clock();
    const epoch = epochAt(now, this.storage.epochSeconds);
    const { balances, diem } = await readSources(this.sql, accountId, epoch);
    const left = diem.allowanceNano - diem.spentNano - diem.reservedNano;
    return {
      accountId,
      epoch,
      nextEpochBegins: nextEpochBegins(now, this.storage.epochSeconds),
      diem: { ...diem, availableNano: left > 0n ? left : 0n },
      credits: balances.CREDITS,
      usd: balances.USD,
    };
  }

  async fundings(input: { accountId: string; source?: 'CREDITS' | 'USD'; limit?: number }): Promise<Funding[]> {
    const limit = Math.min(input.limit ?? ledgerLimits.journalPageSizeMax, ledgerLimits.journalPageSizeMax);
    const rows = await this.sql`SELECT reference, source, amount_nano::text AS amount, created_at_ms
      FROM funding_references WHERE account_id = ${input.accountId}
      AND (${input.source ?? null}::text IS NULL OR source = ${input.source ?? null})
      ORDER BY created_at_ms DESC, reference LIMIT ${limit}`;
    return rows.map((row) => ({
      reference: row.reference as string,
      source: row.source as Funding['source'],
      amountNano: BigInt(row.amount as string),
      createdAtMs: Number(row.created_at_ms),
    }));
  }
}

/** The account's DIEM row for the epoch, created at zero when missing, locked for the transaction. */
async function lockDiemRow(tx: Sql, accountId: string, epoch: number) {
  await tx`INSERT INTO diem_allowances (account_id, epoch, allowance_nano, spent_nano, reserved_nano)
    VALUES (${accountId}, ${epoch}, 0, 0, 0) ON CONFLICT DO NOTHING`;
  const [row] = await tx`SELECT allowance_nano, direct_nano FROM diem_allowances
    WHERE account_id = ${accountId} AND epoch = ${epoch} FOR UPDATE`;
  return { allowanceNano: row!.allowance_nano as bigint, directNano: row!.direct_nano as bigint };
}

/**
 * Sets the account's allowance for the epoch (its DIEM row, locked by `lockDiemRow`) to its direct part (the given
 * one, or the stored one when null) plus its wallets' sum, and journals the change.
 */
async function writeDiemAllowance(
  tx: Sql,
  input: {
    accountId: string;
    epoch: number;
    row: { allowanceNano: NanoUsd; directNano: NanoUsd };
    directNano: NanoUsd | null;
    now: number;
  },
): Promise<void> {
  const { accountId, epoch, row } = input;
  const direct = input.directNano ?? row.directNano;
  const [wallets] = await tx`SELECT coalesce(sum(a.allowance_nano), 0)::bigint AS total FROM wallets w
    JOIN wallet_allowances a ON a.address = w.address AND a.epoch = ${epoch} WHERE w.account_id = ${accountId}`;
  const after = direct + (wallets!.total as bigint);
  if (after === row.allowanceNano && direct === row.directNano) return;
  await tx`UPDATE diem_allowances SET allowance_nano = ${after}, direct_nano = ${direct}
    WHERE account_id = ${accountId} AND epoch = ${epoch}`;
  if (after === row.allowanceNano) return;
  const grant = after > row.allowanceNano;
  const [external, own] = [fundingAccountOf('DIEM'), ledgerAccountOf(accountId, 'DIEM', epoch)];
  await journalPair(tx, {
    txnId: `allowance:${randomUUID()}`,
    kind: 'ALLOWANCE',
    debit: grant ? external : own,
    credit: grant ? own : external,
    amountNano: grant ? after - row.allowanceNano : row.allowanceNano - after,
    now: input.now,
  });
}

async function journalPair(
  tx: Sql,
  entry: { txnId: string; kind: JournalKind; debit: string; credit: string; amountNano: NanoUsd; now: number },
): Promise<void> {
  await tx`INSERT INTO journal_entries (txn_id, kind, ledger_account, side, amount_nano, reservation_id, created_at_ms)
    VALUES (${entry.txnId}, ${entry.kind}, ${entry.debit}, 'DEBIT', ${entry.amountNano}, NULL, ${entry.now}),
      (${entry.txnId}, ${entry.kind}, ${entry.credit}, 'CREDIT', ${entry.amountNano}, NULL, ${entry.now})`;
}
