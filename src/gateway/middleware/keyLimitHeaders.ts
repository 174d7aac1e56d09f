/**
 * `x-perdiem-key-limit-remaining`: what each of the key's spend limits has left in its current period once this
 * request's hold is taken, e.g. "DIEM:EPOCH=0.25, TOTAL:MONTH=4.5" (USD decimals). Only keys with limits pay the
 * ledger read it takes.
 */
import type { Context } from 'hono';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { remainingHeader } from '../keys/keyLimits.ts';

export async function noteKeyLimits(deps: GatewayDeps, c: Context<GatewayEnv>): Promise<void> {
  const { key } = c.get('principal');
  if (key.limits.length === 0) return;
  c.get('headers')['x-perdiem-key-limit-remaining'] = remainingHeader(await deps.ledger.keyLimitUsage(key.id));
}
