/**
 * The stack behind `perdiem up`. On the embedded defaults: an anvil chain with the contracts and a demo wallet
 * (stake → mint → stake DIEM), a SQLite ledger, the gateway serving a local GGUF model (the generated demo model by
 * default), and the linked wallets' on-chain allowance fed into the ledger. Each part can be switched to a real one
 * through StackConfig: an external RPC and deployed contracts, PostgreSQL, OpenAI-compatible upstreams. Everything
 * local lives under `config.home`; a second start resumes the same chain, ledger, account and key.
 *
 * This module orders the parts (./stack/ holds one module per concern) and undoes them in reverse on stop.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { ensureDashboardBuilt } from '../../web/ensureBuilt.ts';
import type { Clock } from '../core/epoch.ts';
import { createProviderRegistry, loadLlamaRuntime } from '../gateway/providers/index.ts';
import type { GatewayServer } from '../gateway/server.ts';
import { removePidFile, takePidLock } from './processes.ts';
import { epochSecondsOf, externalChain, localChain } from './stack/chain.ts';
import { startAllowanceFeed, startDemoX402, startHistoryFeed } from './stack/chainFeeds.ts';
import type { Closer, Progress } from './stack/closers.ts';
import { type GatewayParts, openRateLimiter, startStackGateway } from './stack/gateway.ts';
import { inference } from './stack/inference.ts';
import { demoAccount, openLedger } from './stack/ledger.ts';
import { openStackSettings } from './stack/operatorSettings.ts';
import { freePort, portFree, portInUse } from './stack/ports.ts';
import { receiptKeyOf } from './stack/receiptKey.ts';
import type { StackConfig } from './stackConfig.ts';
import { readStackState, type StackState, writeStackState } from './stateFile.ts';

export interface LocalStackOptions {
  config: StackConfig;
  progress: Progress;
  /** The stack's clock (default Date.now); tests move it with the chain's time to cross epochs. */
  clock?: Clock;
}

export interface LocalStack {
  state: StackState;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const closers: Closer[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    lockHome(options.config.home, closers);
    const state = await start(options, closers);
    return { state, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One `up` per home: its pid file is `up.pid`, taken over when the process that wrote it is gone. */
function lockHome(home: string, closers: Closer[]): void {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, 'up.pid');
  const lock = takePidLock(file, process.pid);
  if (!lock.taken) {
    throw new Error(
      `another perdiem up (pid ${lock.holder.pid}) is running on ${home}; stop it (Ctrl-C, or kill ${lock.holder.pid}) or pass --home DIR`,
    );
  }
  closers.push(() => removePidFile(file, lock.record));
}

async function start(
  { config, progress, clock = Date.now }: LocalStackOptions,
  closers: Closer[],
): Promise<StackState> {
  mkdirSync(path.join(config.home, 'chain'), { recursive: true });
  const previous = readStackState(config.home);
  // Before the chain and the deployment: a taken gateway port is said at once, not after a minute of setup.
  if (config.port !== 0 && !(await portFree(config.host, config.port))) throw portInUse(config.port, '--port');

  const chain = config.rpc
    ? await externalChain(config, progress)
    : await localChain(config, previous, closers, progress);
  const epochSeconds = await epochSecondsOf(chain);
  const ledger = await openLedger(config, clock, epochSeconds, progress);
  closers.push(() => ledger.close());
  const demo = chain.demo ? { ...chain.demo, ...(await demoAccount(ledger, previous, chain.demo.address)) } : undefined;

  const feedParts = { config, chain, ledger, clock, epochSeconds, progress };
  const sync = await startAllowanceFeed(feedParts, closers);
  await startHistoryFeed(feedParts, closers);
  const x402 = await startDemoX402(chain, previous, closers);

  const served = await inference(config, progress);
  const registry = createProviderRegistry(served.providers, { now: clock, llama: loadLlamaRuntime });
  closers.push(() => registry.close());
  // SIWE messages name the gateway's host:port, so a port the OS picks is picked before the gateway starts.
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  progress('building the dashboard if it changed…');
  const dashboardRoot = await ensureDashboardBuilt(progress);
  const rateLimiter = openRateLimiter(config, closers);
  const settings = await openStackSettings(config, served, clock, progress, closers);
  const operatorToken = previous?.operatorToken ?? `pd-operator-${randomBytes(24).toString('hex')}`;
  const receiptKey = receiptKeyOf(config, chain.chainId);
  progress('starting the gateway…');
  const domain = `${config.host}:${port}`;
  const parts: GatewayParts = {
    config,
    chain,
    ledger,
    clock,
    epochSeconds,
    sync,
    x402,
    registry,
    settings,
    rateLimiter,
    operatorToken,
    port,
    domain,
    dashboardRoot,
    demo,
    receiptKey,
  };
  const server = await startStackGateway(parts, closers);
  const state = stackStateOf(parts, server, served.models);
  writeStackState(config.home, state);
  return state;
}

function stackStateOf(parts: GatewayParts, server: GatewayServer, models: string[]): StackState {
  const { chain, x402 } = parts;
  return {
    gatewayUrl: server.url,
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId,
    contracts: chain.contracts,
    fromBlock: chain.fromBlock.toString(),
    models,
    ...(parts.demo ? { demo: parts.demo } : {}),
    ...(x402 ? { x402: { usdc: x402.usdc, facilitatorUrl: x402.facilitatorUrl, payTo: x402.payTo } } : {}),
    operatorToken: parts.operatorToken,
    receipts: { signer: privateKeyToAccount(parts.receiptKey.privateKey).address, chainId: parts.receiptKey.chainId },
  };
}
