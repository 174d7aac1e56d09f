/** CAIP-2 network ids for EVM chains, as x402 v2 names them ("eip155:8453"). */
import type { Network } from '@x402/core/types';

export function evmNetwork(chainId: number): Network {
  return `eip155:${chainId}`;
}

/** The chain id of an `eip155:<id>` network, or null for anything else. */
export function chainIdOf(network: string): number | null {
  const match = /^eip155:(\d+)$/.exec(network);
  return match ? Number(match[1]) : null;
}
