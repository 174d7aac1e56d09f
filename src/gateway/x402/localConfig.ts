/** The gateway's `x402` option for the local stack that `startLocalX402` runs. */
import type { PublicClient } from '../../chain/clients.ts';
import type { LocalX402 } from '../../x402/localX402.ts';
import { evmNetwork } from '../../x402/network.ts';
import type { X402Config } from './config.ts';

/**
 * The gateway's `x402` option for a local stack: TestUSDC through this project's facilitator (in process), sign-in
 * for `domain` (the gateway's host, e.g. "127.0.0.1:8787") on the local chain.
 */
export function localX402GatewayConfig(
  local: LocalX402,
  options: { client: PublicClient; domain: string; nonces: X402Config['signIn']['nonces'] },
): X402Config {
  const chainId = options.client.chain.id;
  return {
    network: evmNetwork(chainId),
    asset: local.usdc,
    eip712: local.eip712,
    payTo: local.payTo,
    facilitator: local.facilitator,
    chain: options.client,
    signIn: {
      domain: options.domain,
      chainId,
      verifyMessage: (args) => options.client.verifyMessage(args),
      nonces: options.nonces,
    },
  };
}
