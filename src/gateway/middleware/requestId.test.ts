import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { newRequestId } from './requestId.ts';

describe('newRequestId', () => {
  it('is req_ and 32 hex digits, unique, and later ids sort after earlier ones', async () => {
    const earlier = Array.from({ length: 1_000 }, () => newRequestId());
    for (const id of earlier) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(new Set(earlier).size).toBe(earlier.length);
    await sleep(2);
    const later = newRequestId();
    expect(earlier.every((id) => id < later)).toBe(true);
  });
});
