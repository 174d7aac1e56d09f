/**
 * Every metered answer carries the tightest remaining budget after its hold (x-perdiem-budget-remaining, in USD, and
 * x-perdiem-budget-level), streamed or not; a 402 refused by a level names it (x-perdiem-refused-by).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt } from '../core/epoch.ts';
import { formatUsd } from '../core/money.ts';
import { fakeModels } from './testing/fakeRegistry.ts';
import { type InProcessGateway, startInProcessGateway } from './testing/inProcess.ts';

const chat = { model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };

describe('budget headroom headers', () => {
  let gw: InProcessGateway;
  beforeEach(async () => {
    gw = await startInProcessGateway();
  });
  afterEach(async () => gw?.close());

  it('names the source as the tightest level for a key without limits, with what it had left after the hold', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const response = await gw.request('/v1/chat/completions', { json: chat });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-perdiem-budget-level')).toBe('source');
    const remaining = response.headers.get('x-perdiem-budget-remaining')!;
    expect(remaining).toMatch(/^\d+(\.\d+)?$/);
    const after = await gw.ledger.balance(gw.accountId);
    // The hold is at least the charge: what was left after it is at most the balance after the settle.
    expect(Number(remaining)).toBeLessThanOrEqual(Number(formatUsd(after.diem.availableNano)));
    expect(Number(remaining)).toBeLessThan(Number(formatUsd(before.diem.availableNano)));
  });

  it("names the key's limit when it is the tightest, on streamed answers too", async () => {
    await gw.ledger.updateKey(gw.keyId, {
      limits: [{ currency: 'TOTAL', period: 'EPOCH', amountNano: 1_000_000_000n }],
    });
    const streamed = await gw.request('/v1/chat/completions', { json: { ...chat, stream: true } });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('x-perdiem-budget-level')).toBe('key');
    const remaining = Number(streamed.headers.get('x-perdiem-budget-remaining'));
    expect(remaining).toBeGreaterThan(0.9);
    expect(remaining).toBeLessThan(1);
    await streamed.text();
    const [usage] = await gw.ledger.keyLimitUsage(gw.keyId);
    expect(remaining).toBeLessThanOrEqual(Number(formatUsd(usage!.remainingNano)));
  });

  it('answers a 402 refused by a key limit or by the balance with the level that refused it', async () => {
    await gw.ledger.updateKey(gw.keyId, { limits: [{ currency: 'TOTAL', period: 'EPOCH', amountNano: 1n }] });
    const byKey = await gw.request('/v1/chat/completions', { json: chat });
    expect(byKey.status).toBe(402);
    expect(byKey.headers.get('x-perdiem-refused-by')).toBe('key');
    expect(((await byKey.json()) as { error: { code: string } }).error.code).toBe('key_limit_exceeded');
    expect(byKey.headers.get('x-perdiem-budget-level')).toBeNull();
    await gw.ledger.updateKey(gw.keyId, { limits: [] });
    await gw.ledger.setDiemAllowance(gw.accountId, epochAt(gw.clock.now()), 0n);
    const byBalance = await gw.request('/v1/chat/completions', { json: chat });
    expect(byBalance.status).toBe(402);
    expect(byBalance.headers.get('x-perdiem-refused-by')).toBe('source');
    expect(((await byBalance.json()) as { error: { code: string } }).error.code).toBe('insufficient_balance');
  });
});
