/** The gateway `perdiem up` serves: on the stack's ledger, chain, models and settings, with the dashboard. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { AllowanceSync } from '../../chain/allowanceSync.ts';
import { stakedVvvAbi } from '../../chain/generated/contracts.ts';
import { readAnchor, readDeploymentEpoch } from '../../chain/priceRegistry.ts';
import type { Clock } from '../../core/epoch.ts';
import { parseUsd } from '../../core/money.ts';
import type { GatewayOptions } from '../../gateway/app.ts';
import { createRedisNonceStore } from '../../gateway/identity/redisNonceStore.ts';
import { createMemoryNonceStore, type NonceStore } from '../../gateway/identity/walletToken.ts';
import { createGatewayMetrics, type GatewayMetrics } from '../../gateway/metrics.ts';
import { createAnchorGate } from '../../gateway/pricing/anchorGate.ts';
import { startAnchorRefresh } from '../../gateway/pricing/anchorRefresh.ts';
import type { SheetGate } from '../../gateway/pricing/sheetGate.ts';
import type { ProviderRegistry } from '../../gateway/providers/index.ts';
import { createRedisRateLimiter, type RedisRateLimiter } from '../../gateway/rateLimit/redisRateLimiter.ts';
import type { ReceiptKeyConfig } from '../../gateway/receipts/receiptSigner.ts';
import { type GatewayServer, startGatewayServer } from '../../gateway/server.ts';
import type { OperatorSettings } from '../../gateway/settings/operatorSettings.ts';
import { localX402GatewayConfig } from '../../gateway/x402/localConfig.ts';
import type { Ledger } from '../../ledger/types.ts';
import type { LocalX402 } from '../../x402/localX402.ts';
import type { StackConfig } from '../stackConfig.ts';
import type { StackState } from '../stateFile.ts';
import type { PreparedChain } from './chain.ts';
import type { Closer } from './closers.ts';
import { portInUse } from './ports.ts';

export interface GatewayParts {
  config: StackConfig;
  chain: PreparedChain;
  ledger: Ledger;
  clock: Clock;
  epochSeconds: number;
  sync: AllowanceSync;
  x402: LocalX402 | undefined;
  registry: ProviderRegistry;
  settings: OperatorSettings;
  rateLimiter: RedisRateLimiter | undefined;
  operatorToken: string;
  /** The port to bind, already picked; `domain` (host:port) is what SIWE messages name. */
  port: number;
  domain: string;
  dashboardRoot: string;
  /** The demo wallet and its account, on the local chain. */
  demo: StackState['demo'];
  /** Signs every charge's receipt. */
  receiptKey: ReceiptKeyConfig;
}

/** Calibration's terms from the config; each one not given keeps the gateway's default. */
export function pricingTermsOf(config: StackConfig): NonNullable<GatewayOptions['pricing']> {
  return {
    ...(config.cuPriceUsd === undefined ? {} : { cuPriceNano: parseUsd(config.cuPriceUsd) }),
    ...(config.priceMarginBps === undefined ? {} : { marginBps: config.priceMarginBps }),
    ...(config.priceStepBpsMax === undefined ? {} : { stepBpsMax: config.priceStepBpsMax }),
  };
}

/** Token buckets in Redis when replicas share one; otherwise the gateway keeps them in memory. */
export function openRateLimiter(config: StackConfig, closers: Closer[]): RedisRateLimiter | undefined {
  if (!config.redisUrl) return undefined;
  const rateLimiter = createRedisRateLimiter({ url: config.redisUrl, keyPrefix: 'perdiem:rl:' });
  closers.push(() => rateLimiter.close());
  return rateLimiter;
}

/** Single-use nonces (wallet key tokens, x402 sign-ins) in Redis when replicas share one, else in memory. */
function nonceStoreFor(config: StackConfig, closers: Closer[], keyPrefix: string): NonceStore {
  if (!config.redisUrl) return createMemoryNonceStore();
  const store = createRedisNonceStore({ url: config.redisUrl, keyPrefix });
  closers.push(() => store.close());
  return store;
}

function gatewayLogger(home: string) {
  return pino(
    { level: 'info', redact: ['req.headers.authorization', 'authorization', 'apiKey', 'secret'] },
    pino.destination({ dest: path.join(home, 'gateway.log'), sync: false }),
  );
}

function walletKeysOf(parts: GatewayParts, nonces: NonceStore): NonNullable<GatewayOptions['walletKeys']> {
  const { chain, sync } = parts;
  return {
    // Tokens live minutes; a fresh secret per start only invalidates tokens issued before a restart.
    tokenSecret: randomBytes(32),
    nonces,
    domain: parts.domain,
    chainId: chain.chainId,
    verifyMessage: (args) => chain.client.verifyMessage(args),
    svvvStakeOf: (address) =>
      chain.client.readContract({
        address: chain.contracts.stakedVvv,
        abi: stakedVvvAbi,
        functionName: 'stakedOf',
        args: [address],
      }),
    onWalletLinked: (wallet) => sync.track(wallet),
  };
}

function dashboardOf(parts: GatewayParts): NonNullable<GatewayOptions['dashboard']> {
  const { chain, demo, config } = parts;
  return {
    root: parts.dashboardRoot,
    chain: { chainId: chain.chainId, rpcUrl: chain.rpcUrl, contracts: chain.contracts },
    // Served only on the local chain (31337) bound to loopback (stackConfig refuses other hosts with it), and
    // labelled there as a development wallet.
    ...(demo && config.devWallet ? { devWallet: { address: demo.address, privateKey: demo.privateKey } } : {}),
  };
}

/**
 * With a PriceRegistry in the deployment, a sheet takes effect only when anchored for its epoch (or, with
 * --unanchored-prices warn, with a loud warning). The anchors are read once before the gateway serves, then kept
 * current. Without a registry (contracts from before it), every sheet is admitted.
 */
async function sheetGateOf(
  parts: GatewayParts,
  logger: Logger,
  metrics: GatewayMetrics,
  closers: Closer[],
): Promise<SheetGate | undefined> {
  const { chain, config } = parts;
  const registry = chain.contracts.priceRegistry;
  if (!registry) return undefined;
  const gate = createAnchorGate({
    readAnchor: (epoch) => readAnchor(chain.client, registry, epoch),
    deploymentEpoch: await readDeploymentEpoch(chain.client, registry),
    epochSeconds: parts.epochSeconds,
    mode: config.unanchoredPrices,
    clock: parts.clock,
    logger,
    metrics,
  });
  const refresh = startAnchorRefresh({ gate, book: () => parts.settings.prices.current(), clock: parts.clock, logger });
  closers.push(() => refresh.stop());
  await refresh.refreshNow();
  return gate;
}

export async function startStackGateway(parts: GatewayParts, closers: Closer[]): Promise<GatewayServer> {
  const { config, chain, sync, x402, rateLimiter, port } = parts;
  const x402Nonces = x402 ? nonceStoreFor(config, closers, 'perdiem:nonce:x402:') : undefined;
  const logger = gatewayLogger(config.home);
  const metrics = createGatewayMetrics();
  const sheetGate = await sheetGateOf(parts, logger, metrics, closers);
  const server = await startGatewayServer({
    ledger: parts.ledger,
    registry: parts.registry,
    prices: parts.settings.prices,
    settings: parts.settings,
    ...(sheetGate ? { sheetGate } : {}),
    metrics,
    clock: parts.clock,
    epochSeconds: parts.epochSeconds,
    operatorToken: parts.operatorToken,
    receiptKey: parts.receiptKey,
    ...(rateLimiter ? { rateLimiter } : {}),
    ...(config.alertIntervalMs === undefined ? {} : { alertIntervalMs: config.alertIntervalMs }),
    ...(config.webhookAttemptsMax === undefined ? {} : { webhookAttemptsMax: config.webhookAttemptsMax }),
    ...(config.webhookPrivateDestinations === undefined
      ? {}
      : { webhookPrivateDestinations: config.webhookPrivateDestinations }),
    pricing: pricingTermsOf(config),
    autoCalibrate: config.autoCalibrate,
    refreshAllowance: (accountId) => sync.refresh(accountId),
    ...(x402 && x402Nonces
      ? { x402: localX402GatewayConfig(x402, { client: chain.client, domain: parts.domain, nonces: x402Nonces }) }
      : {}),
    // When the RPC is down the gateway serves on from the allowances it has, and says so here.
    health: () => ({ chain: { rpcUrl: chain.rpcUrl, ...sync.status() } }),
    host: config.host,
    port,
    logger,
    walletKeys: walletKeysOf(parts, nonceStoreFor(config, closers, 'perdiem:nonce:web3key:')),
    dashboard: dashboardOf(parts),
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? portInUse(port, '--port') : error;
  });
  closers.push(() => server.close());
  return server;
}
