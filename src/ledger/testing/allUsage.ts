import type { Ledger, UsageRecord } from '../types.ts';

/** Every usage record of an account, newest first, read page by page through the public cursor. */
export async function allUsage(ledger: Ledger, accountId: string): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Ledger['usageHistory']>> = await ledger.usageHistory({
      accountId,
      limit: 500,
      cursor,
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
