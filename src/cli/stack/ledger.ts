/** The stack's ledger (SQLite in the home, or PostgreSQL) and the demo wallet's account in it. */
import path from 'node:path';
import type { Address } from 'viem';
import type { Clock } from '../../core/epoch.ts';
import { openPostgresLedger } from '../../ledger/postgres/postgresLedger.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import type { StackConfig } from '../stackConfig.ts';
import type { StackState } from '../stateFile.ts';
import type { Progress } from './closers.ts';

export async function openLedger(config: StackConfig, clock: Clock, epochSeconds: number, progress: Progress) {
  if (config.databaseUrl) {
    progress('opening the ledger (PostgreSQL)…');
    return openPostgresLedger({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      clock,
      epochSeconds,
      createSchema: true,
    });
  }
  progress('opening the ledger (SQLite)…');
  const ledger = openSqliteLedger({ path: path.join(config.home, 'ledger.sqlite'), clock, epochSeconds });
  // This `up` holds the home's lock, so it is the file's only writer: whatever another instance still holds belongs
  // to a process that died (a crash, a SIGKILL), and is given back now rather than a TTL later. On PostgreSQL other
  // replicas may be alive: there, a dead replica's holds expire a TTL after its last sweep.
  const voided = await ledger.voidHoldsOfOtherInstances();
  if (voided > 0) progress(`released ${voided} reservation(s) held by a process that stopped without finishing them`);
  return ledger;
}

/**
 * The demo wallet's account with an INFERENCE key (for requests) and an ADMIN key (to manage keys): reused when the
 * ledger still accepts them, created otherwise.
 */
export async function demoAccount(
  ledger: Ledger,
  previous: StackState | undefined,
  address: Address,
): Promise<{ accountId: string; apiKey: string; adminKey: string }> {
  const existing = await ledger.accountByWallet(address);
  const account = existing ?? (await ledger.createAccount({ name: 'demo' }));
  if (!existing) await ledger.linkWallet(account.id, address);
  const keyFor = async (kind: 'INFERENCE' | 'ADMIN', secret: string | undefined) => {
    const valid = secret && existing ? await ledger.authenticate(secret).catch(() => null) : null;
    if (secret && valid?.accountId === account.id && valid.kind === kind) return secret;
    return (await ledger.createKey({ accountId: account.id, kind, name: `demo ${kind.toLowerCase()}` })).secret;
  };
  return {
    accountId: account.id,
    apiKey: await keyFor('INFERENCE', previous?.demo?.apiKey),
    adminKey: await keyFor('ADMIN', previous?.demo?.adminKey),
  };
}
