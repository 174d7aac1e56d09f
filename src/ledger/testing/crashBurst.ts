/**
 * The process the crash test kills: a burst of concurrent reserve → settle loops against a ledger, where every
 * third reservation is left open (as if the gateway died mid-request). It prints "S <reservationId> <chargedNano>"
 * once a settle has resolved, i.e. committed, and runs until it is killed.
 *
 * Usage: node crashBurst.ts '<json: {adapter, path?, url?, schema?, accountId, keyId, concurrency, ttlMs}>'
 */
import { openPostgresLedger } from '../postgres/postgresLedger.ts';
import { openSqliteLedger } from '../sqlite/sqliteLedger.ts';
import type { Ledger } from '../types.ts';

const config = JSON.parse(process.argv[2]!) as {
  adapter: 'sqlite' | 'postgres';
  path?: string;
  url?: string;
  schema?: string;
  applicationName?: string;
  accountId: string;
  keyId: string;
  concurrency: number;
  ttlMs: number;
};

const clock = Date.now;
const ledger: Ledger =
  config.adapter === 'sqlite'
    ? openSqliteLedger({ path: config.path!, clock })
    : await openPostgresLedger({
        url: config.url!,
        schema: config.schema!,
        clock,
        poolMax: config.concurrency,
        applicationName: config.applicationName,
      });

async function loop(worker: number): Promise<never> {
  for (let i = 0; ; i++) {
    const { reservation } = await ledger.reserve({
      accountId: config.accountId,
      keyId: config.keyId,
      idempotencyKey: `crash-${worker}-${i}`,
      model: 'm',
      amountNano: 1_000n + BigInt(i % 7),
      ttlMs: config.ttlMs,
    });
    if (i % 3 === 2) continue; // left open: only expiry can release it
    const charged = 500n + BigInt((worker * 31 + i) % 500);
    await ledger.settle({
      reservationId: reservation.id,
      lines: [
        {
          sku: 'text.output',
          units: Number(charged),
          unitPriceNano: 1_000_000n,
          priceUnit: 1_000_000,
          amountNano: charged,
        },
      ],
      latencyMs: 1,
    });
    process.stdout.write(`S ${reservation.id} ${charged}\n`);
  }
}

await Promise.all(Array.from({ length: config.concurrency }, (_, w) => loop(w)));
