/** The anchor refresh loop: a read at start, one just before a scheduled sheet starts, failures logged not thrown. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PriceBook } from '../../core/pricing.ts';
import { anchorLimits } from './anchorLimits.ts';
import { type AnchorRefresh, startAnchorRefresh } from './anchorRefresh.ts';
import type { SheetGate } from './sheetGate.ts';

let loop: AnchorRefresh | undefined;
afterEach(() => loop?.stop());

function countingGate(fail = false) {
  const reads: number[] = [];
  const gate: SheetGate = {
    admits: () => true,
    refresh: () => {
      reads.push(Date.now());
      return fail ? Promise.reject(new Error('rpc down')) : Promise.resolve();
    },
  };
  return { gate, reads };
}

const sink = (lines: string[]) =>
  pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );

describe('anchor refresh', () => {
  it('reads at once, then again when a scheduled sheet is about to start, without waiting for the interval', async () => {
    const { gate, reads } = countingGate();
    const startsMs = Date.now() + anchorLimits.refreshLeadMs + 300;
    const book: PriceBook = {
      versions: [
        { effectiveFromMs: 0, models: {} },
        { effectiveFromMs: startsMs, models: {} },
      ],
    };
    loop = startAnchorRefresh({ gate, book: () => book, clock: Date.now, logger: sink([]), intervalMs: 60_000 });
    await expect.poll(() => reads.length, { timeout: 2_000 }).toBeGreaterThanOrEqual(2);
    // The second read came just before the sheet's start (its lead), the third at the start itself.
    expect(reads[1]!).toBeLessThan(startsMs);
    await expect.poll(() => reads.length, { timeout: anchorLimits.refreshLeadMs + 2_000 }).toBe(3);
    expect(reads[2]!).toBeGreaterThanOrEqual(startsMs);
  });

  it('logs a failed read and keeps going', async () => {
    const { gate, reads } = countingGate(true);
    const lines: string[] = [];
    const book: PriceBook = { versions: [] };
    loop = startAnchorRefresh({ gate, book: () => book, clock: Date.now, logger: sink(lines), intervalMs: 50 });
    await expect.poll(() => reads.length, { timeout: 2_000 }).toBeGreaterThanOrEqual(3);
    expect(lines.some((line) => line.includes('reading the price-sheet anchors failed'))).toBe(true);
  });
});
