/** The receipt of a whole (non-streamed) answer travels in the `x-perdiem-receipt` header. */
import type { Context } from 'hono';
import { encodeReceiptHeader, receiptHeader, type SignedReceipt } from '../../core/receipt.ts';
import type { GatewayEnv } from '../env.ts';

export function noteReceipt(c: Context<GatewayEnv>, receipt: SignedReceipt | undefined): void {
  if (receipt) c.get('headers')[receiptHeader] = encodeReceiptHeader(receipt);
}
