/**
 * What the conformance suites share (conformance.ts and each capability's conformance.ts): amounts, the clock's
 * start, usage lines, error and journal expectations, and the per-test ledger with its funded accounts.
 */
import { expect } from 'vitest';
import { dayMs, epochAt } from '../core/epoch.ts';
import { PerdiemError } from '../core/errors.ts';
import type { FakeClock } from './testing/fakeClock.ts';
import type { JournalEntry, Ledger, UsageLineInput } from './types.ts';

export const usd = (n: number): bigint => BigInt(Math.round(n * 1e6)) * 1000n;
export const day = dayMs;
export const start = Date.UTC(2025, 0, 15, 12, 0, 0);

export function line(amountNano: bigint, sku = 'text.output'): UsageLineInput {
  return { sku, units: Number(amountNano), unitPriceNano: 1_000_000n, priceUnit: 1_000_000, amountNano };
}

/** A fresh EVM address, mixed case as wallets present it. */
export function randomWallet(): string {
  const hex = Array.from({ length: 40 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `0x${hex.slice(0, 20).toUpperCase()}${hex.slice(20)}`;
}

/** Expects `promise` to reject with a PerdiemError of this status and code (and `param`, when given). */
export async function expectError(
  promise: Promise<unknown>,
  status: number,
  code: string,
  param?: string | null,
): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${status} ${code}`).toBeInstanceOf(PerdiemError);
  const { status: actualStatus, code: actualCode, param: actualParam } = error as PerdiemError;
  if (param === undefined) expect({ status: actualStatus, code: actualCode }).toEqual({ status, code });
  else expect({ status: actualStatus, code: actualCode, param: actualParam }).toEqual({ status, code, param });
}

/** In every journal transaction, debits equal credits. */
export function expectBalancedJournal(entries: JournalEntry[]): void {
  const net = new Map<string, bigint>();
  for (const e of entries)
    net.set(e.txnId, (net.get(e.txnId) ?? 0n) + (e.side === 'DEBIT' ? e.amountNano : -e.amountNano));
  for (const [txn, value] of net) expect(value, `txn ${txn} unbalanced`).toBe(0n);
}

/** A new account with the given DIEM allowance (this epoch), credits and USD. */
export async function fundedAccountOn(
  ledger: Ledger,
  clock: FakeClock,
  funds: { diem?: bigint; credits?: bigint; usd?: bigint } = {},
) {
  const account = await ledger.createAccount({ name: 'test' });
  if (funds.diem) await ledger.setDiemAllowance(account.id, epochAt(clock.now()), funds.diem);
  if (funds.credits)
    await ledger.addFunds({
      accountId: account.id,
      source: 'CREDITS',
      amountNano: funds.credits,
      reference: `c-${account.id}`,
    });
  if (funds.usd)
    await ledger.addFunds({
      accountId: account.id,
      source: 'USD',
      amountNano: funds.usd,
      reference: `u-${account.id}`,
    });
  return account;
}

/** A reservation of `amountNano` under a fresh idempotency key, without a key unless `extra` gives one. */
export function reserveOn(
  ledger: Ledger,
  accountId: string,
  amountNano: bigint,
  extra: Partial<Parameters<Ledger['reserve']>[0]> = {},
) {
  return ledger.reserve({
    accountId,
    keyId: null,
    idempotencyKey: crypto.randomUUID(),
    model: 'm',
    amountNano,
    ...extra,
  });
}
