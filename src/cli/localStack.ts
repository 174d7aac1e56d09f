/**
 * The whole local stack behind `perdiem up`: an anvil chain with the contracts and a demo wallet (stake → mint →
 * stake DIEM), a SQLite ledger, the gateway serving a local GGUF model (the generated demo model by default), and
 * the demo wallet's on-chain DIEM allowance fed into the ledger. Everything lives under `home`; a second start
 * resumes the same chain, ledger, account and key.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { mnemonicToAccount } from 'viem/accounts';
import { startAllowanceSync } from '../chain/allowanceSync.ts';
import { type AnvilInstance, anvilMnemonic, startAnvil } from '../chain/anvil.ts';
import { chainFor, type PublicClient, publicClientFor, walletClientFor } from '../chain/clients.ts';
import { setUpDemoWallet } from '../chain/demo.ts';
import { defaultDeployConfig, deployPerdiem, type PerdiemContracts } from '../chain/deploy.ts';
import { diemStakingAbi, stakedVvvAbi } from '../chain/generated/contracts.ts';
import type { PriceBook } from '../core/pricing.ts';
import { createMemoryNonceStore } from '../gateway/identity/walletToken.ts';
import { createProviderRegistry, loadLlamaRuntime, writeDemoModel } from '../gateway/providers/index.ts';
import { startGatewayServer } from '../gateway/server.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../ledger/types.ts';
import { readStackState, type StackState, writeStackState } from './stateFile.ts';

export const localModelId = 'perdiem-demo';

/** The operator's price sheet for the local model: $0.20 per 1M input tokens, $0.80 per 1M output tokens. */
export const localPriceBook: PriceBook = {
  versions: [
    {
      effectiveFromMs: 0,
      models: { [localModelId]: { kind: 'text', inputPer1M: 200_000_000n, outputPer1M: 800_000_000n } },
    },
  ],
};

export interface LocalStackOptions {
  home: string;
  /** 0 = any free port. */
  chainPort: number;
  gatewayPort: number;
  /** A GGUF to serve as `perdiem-demo`; default: the generated demo model (random weights). */
  modelPath?: string;
  progress: (line: string) => void;
}

export interface LocalStack {
  state: StackState;
  stop(): Promise<void>;
}

const allowanceSyncIntervalMs = 15_000;
const anvilStateIntervalSeconds = 5;

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const closers: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const state = await start(options, closers);
    return { state, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function start(options: LocalStackOptions, closers: (() => Promise<void> | void)[]): Promise<StackState> {
  const { home, progress } = options;
  mkdirSync(path.join(home, 'chain'), { recursive: true });
  const previous = readStackState(home);

  progress('starting the local chain (anvil)…');
  const anvil = await startAnvil({
    port: options.chainPort,
    statePath: path.join(home, 'chain', 'anvil-state.json'),
    stateIntervalSeconds: anvilStateIntervalSeconds,
  });
  closers.push(() => anvil.stop());
  const chain = await prepareChain(anvil, previous, progress);
  const client = publicClientFor(chainFor(anvil.chainId, anvil.rpcUrl));
  const epochSeconds = Number(
    await client.readContract({
      address: chain.contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'epochSeconds',
    }),
  );

  progress('opening the ledger (SQLite)…');
  const clock = Date.now;
  const ledger = openSqliteLedger({ path: path.join(home, 'ledger.sqlite'), clock, epochSeconds });
  closers.push(() => ledger.close());
  const account = await demoAccount(ledger, previous, chain.demoAddress);

  const sync = startAllowanceSync(
    { ledger, client, contracts: chain.contracts, clock, epochSeconds },
    [{ accountId: account.accountId, address: chain.demoAddress }],
    {
      intervalMs: allowanceSyncIntervalMs,
      onError: (error) => progress(`allowance sync failed: ${(error as Error).message}`),
    },
  );
  closers.push(() => sync.stop());
  await sync.ready;

  const modelPath = options.modelPath ?? path.join(home, 'models', 'perdiem-demo.gguf');
  if (!options.modelPath) {
    progress('writing the demo model (random weights, not a real model)…');
    await writeDemoModel(modelPath);
  }
  progress('starting the gateway with the local model…');
  const registry = createProviderRegistry(
    [{ kind: 'llama', id: 'local', models: [{ id: localModelId, path: modelPath }], threads: 1 }],
    { now: clock, llama: loadLlamaRuntime },
  );
  closers.push(() => registry.close());
  const operatorToken = previous?.operatorToken ?? `pd-operator-${randomBytes(24).toString('hex')}`;
  const server = await startGatewayServer({
    ledger,
    registry,
    prices: localPriceBook,
    clock,
    epochSeconds,
    operatorToken,
    port: options.gatewayPort,
    walletKeys: {
      // Tokens live minutes; a fresh secret per start only invalidates tokens issued before a restart.
      tokenSecret: randomBytes(32),
      nonces: createMemoryNonceStore(),
      domain: `127.0.0.1:${options.gatewayPort}`,
      chainId: anvil.chainId,
      verifyMessage: (args) => client.verifyMessage(args),
      svvvStakeOf: (address) =>
        client.readContract({
          address: chain.contracts.stakedVvv,
          abi: stakedVvvAbi,
          functionName: 'stakedOf',
          args: [address],
        }),
    },
    logger: pino(
      { level: 'info', redact: ['req.headers.authorization', 'authorization', 'apiKey', 'secret'] },
      pino.destination({ dest: path.join(home, 'gateway.log'), sync: false }),
    ),
  });
  closers.push(() => server.close());

  const state: StackState = {
    gatewayUrl: server.url,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    contracts: chain.contracts,
    demo: {
      address: chain.demoAddress,
      privateKey: chain.demoPrivateKey,
      apiKey: account.apiKey,
      accountId: account.accountId,
    },
    operatorToken,
  };
  writeStackState(home, state);
  return state;
}

interface PreparedChain {
  contracts: PerdiemContracts;
  demoAddress: `0x${string}`;
  demoPrivateKey: `0x${string}`;
}

async function prepareChain(
  anvil: AnvilInstance,
  previous: StackState | undefined,
  progress: (line: string) => void,
): Promise<PreparedChain> {
  const chain = chainFor(anvil.chainId, anvil.rpcUrl);
  const client = publicClientFor(chain);
  if (previous && previous.chainId === anvil.chainId && (await isDeployed(client, previous.contracts))) {
    progress('resuming: contracts and demo wallet found on the chain');
    return {
      contracts: previous.contracts,
      demoAddress: previous.demo.address,
      demoPrivateKey: previous.demo.privateKey,
    };
  }
  const deployer = walletClientFor(chain, mnemonicToAccount(anvilMnemonic));
  progress('deploying VVV, sVVV, DIEM and DIEM staking…');
  const contracts = await deployPerdiem(deployer, client, defaultDeployConfig(deployer.account.address));
  progress('funding the demo wallet and taking it through stake → mint → stake DIEM…');
  const demo = await setUpDemoWallet(deployer, client, contracts);
  return { contracts, demoAddress: demo.address, demoPrivateKey: demo.privateKey };
}

async function isDeployed(client: PublicClient, contracts: PerdiemContracts): Promise<boolean> {
  const codes = await Promise.all(Object.values(contracts).map((address) => client.getCode({ address })));
  return codes.every((code) => code !== undefined && code !== '0x');
}

/** The demo wallet's account and INFERENCE key: reused when the ledger still has them, created otherwise. */
async function demoAccount(
  ledger: Ledger,
  previous: StackState | undefined,
  address: `0x${string}`,
): Promise<{ accountId: string; apiKey: string }> {
  const existing = await ledger.accountByWallet(address);
  if (existing && previous?.demo.apiKey && previous.demo.accountId === existing.id) {
    const key = await ledger.authenticate(previous.demo.apiKey).catch(() => null);
    if (key) return { accountId: existing.id, apiKey: previous.demo.apiKey };
  }
  const account = existing ?? (await ledger.createAccount({ name: 'demo' }));
  if (!existing) await ledger.linkWallet(account.id, address);
  const { secret } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'demo' });
  return { accountId: account.id, apiKey: secret };
}
