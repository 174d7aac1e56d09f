import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardDist, dashboardIsStale, ensureDashboardBuilt } from './ensureBuilt.ts';

describe('ensureDashboardBuilt', () => {
  it('builds web/dist once when several callers race, and leaves it fresh', async () => {
    const lines: string[] = [];
    const roots = await Promise.all([1, 2, 3].map(() => ensureDashboardBuilt((line) => lines.push(line))));
    expect(new Set(roots)).toEqual(new Set([dashboardDist]));
    expect(lines.length).toBeLessThanOrEqual(1);
    expect(dashboardIsStale()).toBe(false);
    const index = readFileSync(path.join(dashboardDist, 'index.html'), 'utf8');
    const script = /src="\/(assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(script && existsSync(path.join(dashboardDist, script))).toBe(true);
  }, 120_000);
});
