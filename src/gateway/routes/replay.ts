/**
 * The answer to a retry of an idempotent request that already finished: the answer kept with its charge, with the
 * cost of that charge, marked `idempotent-replayed: true` (Stripe's header). Nothing is charged again.
 */
import type { Context } from 'hono';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { costObjectOf, type Replay } from '../metering/meter.ts';
import { balanceOf } from '../middleware/balance.ts';
import { receiptOfRequest } from '../receipts/chargeReceipt.ts';
import { noteReceipt } from '../receipts/receiptHeader.ts';
import { respond, respondAnswer } from './respond.ts';
import { sseHeaders } from './sse.ts';

export async function replayAnswer(deps: GatewayDeps, c: Context<GatewayEnv>, replay: Replay): Promise<Response> {
  c.get('headers')['idempotent-replayed'] = 'true';
  // The answer is built with its headers: the balance now (nothing was held for a replay).
  await balanceOf(deps, c);
  const cost = costObjectOf(replay.reservation);
  // The same receipt the first answer carried: rebuilt from the ledger, signed again (deterministically).
  const { accountId, requestId } = replay.reservation;
  const receipt = (await receiptOfRequest(deps, accountId, requestId)) ?? undefined;
  if (replay.answer.type !== 'sse') {
    noteReceipt(c, receipt);
    return respondAnswer(c, replay.answer, cost);
  }
  const lines = replay.answer.chunks.map((chunk) => {
    const last = (chunk as { usage?: unknown }).usage != null;
    return `data: ${JSON.stringify(last ? { ...chunk, cost, ...(receipt ? { receipt } : {}) } : chunk)}\n\n`;
  });
  lines.push('data: [DONE]\n\n');
  return respond(c, lines.join(''), sseHeaders);
}
