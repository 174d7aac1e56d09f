/**
 * A worker thread for the concurrency test: opens its own connection to the shared SQLite file and fires its share
 * of reservations all at once. Reports the ids it won and how many it was refused.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PerdiemError } from '../../core/errors.ts';
import { openSqliteLedger } from '../sqlite/sqliteLedger.ts';

const { path, accountId, keyId, count, amountNano, prefix, nowMs } = workerData as {
  path: string;
  accountId: string;
  keyId: string | null;
  count: number;
  amountNano: bigint;
  prefix: string;
  nowMs: number;
};

const ledger = openSqliteLedger({ path, clock: () => nowMs, backgroundCheckpoints: false });
const outcomes = await Promise.allSettled(
  Array.from({ length: count }, (_, i) =>
    ledger.reserve({ accountId, keyId, idempotencyKey: `${prefix}-${i}`, model: 'm', amountNano }),
  ),
);
const won: string[] = [];
const refusals: string[] = [];
const failures: string[] = [];
for (const outcome of outcomes) {
  if (outcome.status === 'fulfilled') won.push(outcome.value.reservation.id);
  else if (outcome.reason instanceof PerdiemError) refusals.push(outcome.reason.code);
  else failures.push(String(outcome.reason));
}
await ledger.close();
parentPort!.postMessage({ won, refusals, failures });
