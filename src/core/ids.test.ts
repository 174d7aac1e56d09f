import { describe, expect, it } from 'vitest';
import { timeOrderedHex } from './ids.ts';

describe('timeOrderedHex', () => {
  it('is 32 hex digits that sort by time, and unique within one millisecond', () => {
    const at = Date.UTC(2026, 10, 23);
    const sameMs = Array.from({ length: 10_000 }, () => timeOrderedHex(at));
    expect(new Set(sameMs).size).toBe(sameMs.length);
    for (const id of sameMs) expect(id).toMatch(/^[0-9a-f]{32}$/);
    const later = timeOrderedHex(at + 1);
    expect(sameMs.every((id) => id < later)).toBe(true);
    expect(timeOrderedHex(at).slice(0, 12)).toBe(at.toString(16).padStart(12, '0'));
  });
});
