/**
 * The WAL under steady load. With checkpoints on their own thread, a checkpoint always ended behind the ledger's
 * newest commit, so SQLite never restarted the WAL and it grew without bound (5 GB in 20 s of one pair at a time).
 * The ledger now holds its group commits for one checkpoint once the WAL passes `walFramesMax`; these tests run
 * traffic without a pause and watch the WAL header's checkpoint sequence number, which SQLite bumps on each restart.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { line } from '../conformance.ts';
import { openSqliteLedger } from './sqliteLedger.ts';

let directory: string | null = null;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = null;
});

/** Bytes 12–15 of the WAL header: how many times the WAL has been restarted. */
function walRestarts(path: string): number {
  const header = Buffer.alloc(16);
  const fd = openSync(`${path}-wal`, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(12);
}

describe('SQLite ledger WAL under steady load', () => {
  it('restarts the WAL and keeps it bounded while pairs run back to back, and loses no operation', async () => {
    directory = mkdtempSync(join(tmpdir(), 'perdiem-wal-'));
    const path = join(directory, 'ledger.sqlite');
    const framesMax = 64;
    const ledger = openSqliteLedger({ path, clock: Date.now, checkpointIntervalMs: 10, walFramesMax: framesMax });
    try {
      const account = await ledger.createAccount();
      await ledger.setDiemAllowance(account.id, epochAt(Date.now()), 10n ** 15n);
      const before = walRestarts(path);
      let walBytesMax = 0;
      let pairs = 0;
      let chargedNano = 0n;
      const until = Date.now() + 20_000;
      // Eight requests in flight, each reserving and settling back to back: the group commit never idles. 10,000
      // pairs write about 178 MB of WAL frames (about 18 KB a pair), which a WAL that never restarts keeps.
      await Promise.all(
        Array.from({ length: 8 }, async (_, worker) => {
          while (Date.now() < until && (pairs < 10_000 || walRestarts(path) - before < 5)) {
            const { reservation } = await ledger.reserve({
              accountId: account.id,
              keyId: null,
              idempotencyKey: `w${worker}-${pairs}`,
              model: 'm',
              amountNano: 5_000n,
              minAmountNano: 1n,
            });
            const amount = BigInt(1 + (pairs % 1000));
            await ledger.settle({ reservationId: reservation.id, lines: [line(amount)], latencyMs: null });
            chargedNano += amount;
            pairs++;
            if (pairs % 64 === 0) walBytesMax = Math.max(walBytesMax, statSync(`${path}-wal`).size);
          }
        }),
      );
      expect(walRestarts(path) - before).toBeGreaterThanOrEqual(5);
      expect(pairs).toBeGreaterThanOrEqual(10_000);
      // 64 frames of 4 KiB, plus what is written while a checkpoint runs: under CI load that thread can lag for
      // seconds (72.9 MB seen, 73–91 MB in the README's bench). A WAL that never restarts holds everything the run
      // wrote: 178 MB for 10,000 pairs, measured (the WAL file is reused from its start, so this is its high-water
      // mark).
      expect(walBytesMax).toBeLessThan(128 * 1024 * 1024);
      const balance = await ledger.balance(account.id);
      expect(balance.diem.spentNano).toBe(chargedNano);
      expect(balance.diem.reservedNano).toBe(0n);
      let rows = 0;
      for (let page = await ledger.usageHistory({ accountId: account.id, limit: 500 }); ; ) {
        rows += page.items.length;
        if (!page.nextCursor) break;
        page = await ledger.usageHistory({ accountId: account.id, limit: 500, cursor: page.nextCursor });
      }
      expect(rows).toBe(pairs);
    } finally {
      await ledger.close();
    }
  }, 30_000);
});
