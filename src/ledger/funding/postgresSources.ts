/** An account's funding sources as stored on PostgreSQL: balance rows, and the DIEM row of one epoch. */
import { NotFoundError } from '../../core/errors.ts';
import type { NanoUsd } from '../../core/money.ts';
import type { Sql } from '../postgres/pool.ts';
import type { FundingSource } from '../vocabulary.ts';

export interface StoredSources {
  balances: Record<'CREDITS' | 'USD', { availableNano: NanoUsd; reservedNano: NanoUsd }>;
  diem: { allowanceNano: NanoUsd; spentNano: NanoUsd; reservedNano: NanoUsd };
}

/** One read of every source of the account; NotFoundError (`account_not_found`) for an unknown account. */
export async function readSources(sql: Sql, accountId: string, epoch: number): Promise<StoredSources> {
  const rows = await sql`SELECT source, available_nano, reserved_nano, NULL::bigint AS allowance_nano
      FROM balances WHERE account_id = ${accountId}
    UNION ALL SELECT 'DIEM', spent_nano, reserved_nano, allowance_nano
      FROM diem_allowances WHERE account_id = ${accountId} AND epoch = ${epoch}`;
  const balances = { CREDITS: { availableNano: 0n, reservedNano: 0n }, USD: { availableNano: 0n, reservedNano: 0n } };
  const diem = { allowanceNano: 0n, spentNano: 0n, reservedNano: 0n };
  if (rows.length === 0) throw new NotFoundError('account not found', { code: 'account_not_found' });
  for (const row of rows) {
    if (row.source === 'DIEM') {
      Object.assign(diem, {
        allowanceNano: row.allowance_nano,
        spentNano: row.available_nano,
        reservedNano: row.reserved_nano,
      });
    } else {
      balances[row.source as 'CREDITS' | 'USD'] = {
        availableNano: row.available_nano,
        reservedNano: row.reserved_nano,
      };
    }
  }
  return { balances, diem };
}

/** What each source has available (the DIEM allowance less its spend and holds, possibly negative once lowered). */
export function availableOf({ balances, diem }: StoredSources): Record<FundingSource, NanoUsd> {
  return {
    DIEM: diem.allowanceNano - diem.spentNano - diem.reservedNano,
    CREDITS: balances.CREDITS.availableNano,
    USD: balances.USD.availableNano,
  };
}
