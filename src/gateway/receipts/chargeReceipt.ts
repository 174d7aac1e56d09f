/**
 * A charge's receipt, built from what the ledger holds: on the hot path from the settle's own result and lines, and
 * later (`GET /api/v1/receipts/{id}`, idempotent replays) from `Ledger.chargeOf`. Both give the same ChargeRecord,
 * so the same receipt and signature.
 */
import type { Hex } from 'viem';
import type { ChargeRecord, SignedReceipt } from '../../core/receipt.ts';
import type { Reservation, SettledCharge } from '../../ledger/types.ts';
import type { GatewayDeps } from '../env.ts';

/** The charge a settle made: its reservation as settled, its priced lines, the sheet that priced them. */
export function chargeRecordOf(
  reservation: Reservation,
  lines: readonly { sku: string; units: number }[],
  priceSheetHash: string | null,
): ChargeRecord {
  if (reservation.status !== 'SETTLED' || reservation.finishedAtMs === null) {
    throw new Error(`reservation ${reservation.id} is ${reservation.status}, not settled: it has no receipt`);
  }
  return {
    requestId: reservation.requestId,
    accountId: reservation.accountId,
    model: reservation.model,
    source: reservation.source,
    chargedNano: reservation.chargedNano ?? 0n,
    finishedAtMs: reservation.finishedAtMs,
    priceSheetHash: priceSheetHash as Hex | null,
    lines: lines.map(({ sku, units }) => ({ sku, units })),
  };
}

export function chargeRecordOfSettled(charge: SettledCharge): ChargeRecord {
  return chargeRecordOf(charge.reservation, charge.lines, charge.priceSheetHash);
}

/** The signed receipt of the account's request, from the ledger; null when it has no settled charge. */
export async function receiptOfRequest(
  deps: GatewayDeps,
  accountId: string,
  requestId: string,
): Promise<SignedReceipt | null> {
  if (!deps.receipts) return null;
  const charge = await deps.ledger.chargeOf({ accountId, requestId });
  return charge ? await deps.receipts.sign(chargeRecordOfSettled(charge)) : null;
}
