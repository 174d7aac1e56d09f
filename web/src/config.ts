/** What the gateway tells the page at /dashboard/config.json: the chain to talk to and, locally, a dev wallet. */
import type { Address, Hex } from 'viem';

export interface Contracts {
  vvv: Address;
  stakedVvv: Address;
  diem: Address;
  diemStaking: Address;
}

export interface ChainConfig {
  chainId: number;
  rpcUrl: string;
  contracts: Contracts;
}

export interface DashboardConfig {
  chain: ChainConfig | null;
  /** Only ever set on a local chain (31337): a development wallet whose key is not a secret. */
  devWallet: { address: Address; privateKey: Hex } | null;
}

export async function loadConfig(): Promise<DashboardConfig> {
  const response = await fetch('/dashboard/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/dashboard/config.json answered ${response.status}`);
  return (await response.json()) as DashboardConfig;
}
