/** Pure reporting rules both adapters share: usage-history cursors and page sizes. */
import { invalidInput } from '../inputChecks.ts';
import { ledgerLimits } from '../limits.ts';

export function encodeCursor(createdAtMs: number, id: string): string {
  return Buffer.from(`${createdAtMs}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAtMs: number; id: bigint } {
  const match = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw invalidInput('invalid cursor', 'cursor');
  return { createdAtMs: Number(match[1]), id: BigInt(match[2]!) };
}

export function pageSizeOf(limit: number | undefined): number {
  const size = limit ?? ledgerLimits.usageHistoryPageSizeDefault;
  if (!Number.isSafeInteger(size) || size < 1 || size > ledgerLimits.usageHistoryPageSizeMax) {
    throw invalidInput(`limit must be between 1 and ${ledgerLimits.usageHistoryPageSizeMax}`, 'limit');
  }
  return size;
}
