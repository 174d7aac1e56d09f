/** viem clients for one RPC endpoint. The chain id is read from the endpoint, so any EVM chain works. */
import { type Account, type Chain, createPublicClient, createWalletClient, defineChain, http } from 'viem';

export function chainFor(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? 'anvil' : `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export function publicClientFor(chain: Chain) {
  return createPublicClient({ chain, transport: http(chain.rpcUrls.default.http[0]) });
}

export function walletClientFor(chain: Chain, account: Account) {
  return createWalletClient({ chain, account, transport: http(chain.rpcUrls.default.http[0]) });
}

export type PublicClient = ReturnType<typeof publicClientFor>;
export type WalletClient = ReturnType<typeof walletClientFor>;
