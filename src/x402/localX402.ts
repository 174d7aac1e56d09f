/**
 * x402 on the local chain, for `perdiem up`: TestUSDC deployed (or found again on resume) and funded to the demo
 * wallet, and this project's facilitator served over HTTP, settling with its own anvil dev account.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { anvilMnemonic } from '../chain/anvil.ts';
import type { PublicClient, WalletClient } from '../chain/clients.ts';
import { walletClientFor } from '../chain/clients.ts';
import { deployTestUsdc, fundTestUsdc, testUsdcEip712, usdcUnit } from '../chain/testUsdc.ts';
import type { Clock } from '../core/epoch.ts';
import { createExactEvmFacilitator } from './exactEvmFacilitator.ts';
import { facilitatorApp } from './facilitatorApp.ts';
import type { Facilitator } from './facilitatorTypes.ts';

/** Anvil dev accounts (from its mnemonic) with their own nonces: 1 pays facilitator gas, 2 receives payments. */
export const facilitatorAccountIndex = 1;
export const treasuryAccountIndex = 2;
/** What the demo wallet gets on a fresh chain: $1,000 of TestUSDC. */
export const demoUsdcFunding = 1_000n * usdcUnit;

export interface LocalX402Options {
  client: PublicClient;
  /** Owns (and mints) TestUSDC: the chain's deployer. */
  deployer: WalletClient;
  /** Funded with TestUSDC when the token is deployed fresh. */
  demoAddress: Address;
  /** A TestUSDC from a previous run (state.json); redeployed when it has no code on this chain. */
  usdc?: Address;
  /** Facilitator HTTP port on 127.0.0.1; 0 = any free port. */
  port: number;
  clock?: Clock;
}

export interface LocalX402 {
  usdc: Address;
  /** EIP-712 domain of the token, for PaymentRequirements.extra. */
  eip712: { name: string; version: string };
  /** Where x402 payments go: an anvil dev account standing in for the operator's treasury. */
  payTo: Address;
  /** The in-process facilitator (the gateway can call it directly) and its URL (for anything else). */
  facilitator: Facilitator;
  facilitatorUrl: string;
  stop(): Promise<void>;
}

export async function startLocalX402(options: LocalX402Options): Promise<LocalX402> {
  const { client, deployer } = options;
  const chain = deployer.chain;
  const existing = options.usdc ? await client.getCode({ address: options.usdc }) : undefined;
  let usdc: Address;
  if (options.usdc && existing && existing !== '0x') {
    usdc = options.usdc;
  } else {
    usdc = await deployTestUsdc(deployer, client);
    await fundTestUsdc(deployer, client, usdc, options.demoAddress, demoUsdcFunding);
  }
  const facilitatorWallet = walletClientFor(
    chain,
    mnemonicToAccount(anvilMnemonic, { addressIndex: facilitatorAccountIndex }),
  );
  const payTo = mnemonicToAccount(anvilMnemonic, { addressIndex: treasuryAccountIndex }).address;
  const facilitator = createExactEvmFacilitator({
    client,
    wallet: facilitatorWallet,
    clock: options.clock ?? Date.now,
  });
  const server = await serveApp(facilitatorApp(facilitator).fetch, options.port);
  return {
    usdc,
    eip712: { ...testUsdcEip712 },
    payTo,
    facilitator,
    facilitatorUrl: server.url,
    stop: server.close,
  };
}

/** A fetch handler on 127.0.0.1. */
export async function serveApp(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
