/** `.perdiem/state.json`: what `perdiem up` started, for scripts, tests and the next `perdiem up`. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Address, Hex } from 'viem';
import type { PerdiemContracts } from '../chain/deploy.ts';

export interface StackState {
  /** The gateway's origin; the OpenAI base URL is `${gatewayUrl}/v1`. */
  gatewayUrl: string;
  rpcUrl: string;
  chainId: number;
  contracts: PerdiemContracts;
  /** The block the event follower started from (decimal). */
  fromBlock?: string;
  /** The model ids the gateway serves. */
  models: string[];
  /** A development wallet with staked DIEM, its ledger account, an INFERENCE and an ADMIN key. Local chain only. */
  demo?: { address: Address; privateKey: Hex; apiKey: string; adminKey: string; accountId: string };
  /** x402 on the local chain: the test USDC, the project's facilitator and where payments go. */
  x402?: { usdc: Address; facilitatorUrl: string; payTo: Address };
  /** Bearer token for the gateway's /admin routes. */
  operatorToken: string;
  /** Who signs the receipts (`perdiem receipts verify` trusts this address) and the chain of their EIP-712 domain. */
  receipts?: { signer: Address; chainId: number };
}

export function stateFilePath(home: string): string {
  return path.join(home, 'state.json');
}

export function readStackState(home: string): StackState | undefined {
  try {
    return JSON.parse(readFileSync(stateFilePath(home), 'utf8')) as StackState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${stateFilePath(home)}: ${(error as Error).message}`);
  }
}

/** Written atomically (temp file + rename), so a reader never sees half a file. */
export function writeStackState(home: string, state: StackState): void {
  mkdirSync(home, { recursive: true });
  const target = stateFilePath(home);
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, target);
}
