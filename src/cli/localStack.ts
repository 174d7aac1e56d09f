/**
 * The stack behind `perdiem up`. On the embedded defaults: an anvil chain with the contracts and a demo wallet
 * (stake → mint → stake DIEM), a SQLite ledger, the gateway serving a local GGUF model (the generated demo model by
 * default), and the linked wallets' on-chain allowance fed into the ledger. Each part can be switched to a real one
 * through StackConfig: an external RPC and deployed contracts, PostgreSQL, OpenAI-compatible upstreams. Everything
 * local lives under `config.home`; a second start resumes the same chain, ledger, account and key.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { type Address, createTestClient, type Hex, http } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { ensureDashboardBuilt } from '../../web/ensureBuilt.ts';
import { type AllocationMode, startAllowanceSync } from '../chain/allowanceSync.ts';
import { type AnvilInstance, AnvilPortInUseError, anvilMnemonic, startAnvil } from '../chain/anvil.ts';
import { chainFor, type PublicClient, publicClientFor, walletClientFor } from '../chain/clients.ts';
import { setUpDemoWallet } from '../chain/demo.ts';
import { defaultDeployConfig, deployPerdiem, type PerdiemContracts } from '../chain/deploy.ts';
import { startFollower } from '../chain/follower/follower.ts';
import { openPostgresFollowerStore } from '../chain/follower/postgresFollowerStore.ts';
import { openSqliteFollowerStore } from '../chain/follower/sqliteFollowerStore.ts';
import { diemStakingAbi, stakedVvvAbi } from '../chain/generated/contracts.ts';
import { parseUsd } from '../core/money.ts';
import type { ModelPrice, PriceBook } from '../core/pricing.ts';
import { createRedisNonceStore } from '../gateway/identity/redisNonceStore.ts';
import { createMemoryNonceStore, type NonceStore } from '../gateway/identity/walletToken.ts';
import { type RateLimitConfig, rateLimitsDefault } from '../gateway/limits.ts';
import {
  createProviderRegistry,
  loadLlamaRuntime,
  type ProviderConfig,
  providerLimits,
  writeDemoModel,
} from '../gateway/providers/index.ts';
import { createRedisRateLimiter } from '../gateway/rateLimit/redisRateLimiter.ts';
import { startGatewayServer } from '../gateway/server.ts';
import { openOperatorSettingsFor } from '../gateway/settings/operatorSettings.ts';
import { localX402GatewayConfig } from '../gateway/x402/localConfig.ts';
import { openPostgresLedger } from '../ledger/postgres/postgresLedger.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../ledger/types.ts';
import { startLocalX402 } from '../x402/localX402.ts';
import { UsageError } from './command.ts';
import {
  portInUseMessage,
  portOwner,
  processRecord,
  reapOrphan,
  removePidFile,
  takePidLock,
  writePidFile,
} from './processes.ts';
import type { StackConfig } from './stackConfig.ts';
import { readStackState, type StackState, writeStackState } from './stateFile.ts';

export const localModelId = 'perdiem-demo';

/** The operator's default price for every served model: $0.20 per 1M input tokens, $0.80 per 1M output tokens. */
export const defaultModelPrice: ModelPrice = { kind: 'text', inputPer1M: 200_000_000n, outputPer1M: 800_000_000n };

/** The default for image models: $0.04 an image, whatever its size (the operator reprices through POST /admin/prices). */
export const defaultImagePrice: ModelPrice = { kind: 'image', perImage: 40_000_000n };

export function priceBookFor(models: string[], imageModels: string[] = []): PriceBook {
  const prices = [
    ...models.map((id) => [id, defaultModelPrice] as const),
    ...imageModels.map((id) => [id, defaultImagePrice] as const),
  ];
  return { versions: [{ effectiveFromMs: 0, models: Object.fromEntries(prices) }] };
}

export interface LocalStackOptions {
  config: StackConfig;
  progress: (line: string) => void;
}

export interface LocalStack {
  state: StackState;
  stop(): Promise<void>;
}

type Closer = () => Promise<void> | void;

const allowanceSyncIntervalMs = 15_000;
const anvilStateIntervalSeconds = 5;
const upstreamProbeTimeoutMs = 5_000;

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

async function start({ config, progress }: LocalStackOptions, closers: Closer[]): Promise<StackState> {
  mkdirSync(path.join(config.home, 'chain'), { recursive: true });
  const previous = readStackState(config.home);
  // Before the chain and the deployment: a taken gateway port is said at once, not after a minute of setup.
  if (config.port !== 0 && !(await portFree(config.host, config.port))) throw portInUse(config.port, '--port');

  const chain = config.rpc
    ? await externalChain(config, progress)
    : await localChain(config, previous, closers, progress);
  const { client, contracts } = chain;
  const epochSeconds = Number(
    await client.readContract({ address: contracts.diemStaking, abi: diemStakingAbi, functionName: 'epochSeconds' }),
  );

  const clock = Date.now;
  const ledger = await openLedger(config, clock, epochSeconds, progress);
  closers.push(() => ledger.close());
  const demo = chain.demo ? { ...chain.demo, ...(await demoAccount(ledger, previous, chain.demo.address)) } : undefined;

  const allocation: AllocationMode =
    config.allocation === 'legacy'
      ? { kind: 'legacy', dailyCapacityNano: parseUsd(config.legacyDailyCapacityUsd!) }
      : { kind: 'diem' };
  // The anvil this stack started mines only on transactions: after midnight with none, its head stays in the old
  // epoch, where the feed credits nothing (see allowanceSync.ts). On that chain, and only there, the feed mines empty
  // blocks then, enough for one in the new epoch to have its confirmations.
  const advanceChain = chain.mine ? () => chain.mine!(config.confirmations + 1) : undefined;
  const sync = startAllowanceSync(
    {
      ledger,
      client,
      contracts,
      clock,
      epochSeconds,
      allocation,
      confirmations: config.confirmations,
      ...(advanceChain ? { advanceChain } : {}),
    },
    // Every wallet linked so far (the demo wallet among them), so a restart keeps feeding their allowances.
    (await ledger.listWallets()).map((wallet) => ({ accountId: wallet.accountId, address: wallet.address as Address })),
    {
      intervalMs: allowanceSyncIntervalMs,
      onError: (error) => progress(`allowance sync failed: ${(error as Error).message}`),
    },
  );
  closers.push(() => sync.stop());
  await sync.ready;

  // Stake, mint, burn and transfer history, in the ledger's database, for the dashboard and the CLI.
  const followerStore = config.databaseUrl
    ? await openPostgresFollowerStore({ url: config.databaseUrl, schema: config.databaseSchema, createSchema: true })
    : openSqliteFollowerStore({ path: path.join(config.home, 'ledger.sqlite') });
  closers.push(() => followerStore.close());
  const follower = startFollower(
    { client, store: followerStore },
    {
      chainId: chain.chainId,
      contracts,
      fromBlock: chain.fromBlock,
      confirmations: config.confirmations,
      onError: (error) => progress(`chain follower: ${(error as Error).message.split('\n')[0]}`),
    },
  );
  follower.done.catch((error: Error) => progress(`chain follower stopped: ${error.message}`));
  closers.push(() => follower.stop());

  // x402 on the local chain: a test USDC funded to the demo wallet, and the project's own facilitator.
  const x402 = chain.demo
    ? await startLocalX402({
        client,
        deployer: walletClientFor(client.chain, mnemonicToAccount(anvilMnemonic)),
        demoAddress: chain.demo.address,
        ...(previous?.x402?.usdc ? { usdc: previous.x402.usdc } : {}),
        port: 0,
      })
    : undefined;
  if (x402) closers.push(() => x402.stop());

  const { providers, models, imageModels } = await inference(config, progress);
  const registry = createProviderRegistry(providers, { now: clock, llama: loadLlamaRuntime });
  closers.push(() => registry.close());
  const operatorToken = previous?.operatorToken ?? `pd-operator-${randomBytes(24).toString('hex')}`;
  // SIWE messages name the gateway's host:port, so a port the OS picks is picked before the gateway starts.
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const domain = `${config.host}:${port}`;
  progress('building the dashboard if it changed…');
  const dashboardRoot = await ensureDashboardBuilt(progress);
  // Single-use nonces (wallet key tokens, x402 sign-ins) in Redis when replicas share one, else in memory.
  const nonceStore = (keyPrefix: string): NonceStore => {
    if (!config.redisUrl) return createMemoryNonceStore();
    const store = createRedisNonceStore({ url: config.redisUrl, keyPrefix });
    closers.push(() => store.close());
    return store;
  };
  const rateLimiter = config.redisUrl
    ? createRedisRateLimiter({ url: config.redisUrl, keyPrefix: 'perdiem:rl:' })
    : undefined;
  if (rateLimiter) closers.push(() => rateLimiter.close());
  // Prices, rate limits, provider and model settings the operator changed, kept (versioned) in the ledger's database.
  const settings = await openOperatorSettingsFor({
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema } : {}),
    sqlitePath: path.join(config.home, 'ledger.sqlite'),
    defaults: { prices: priceBookFor(models, imageModels), rateLimits: rateLimitsOf(config) },
    clock,
    onProblem: (message) => progress(`operator settings: ${message}`),
  });
  closers.push(() => settings.close());
  // Rate limits given explicitly at start (flag, variable or file) are the newest word: stored as a version, over any
  // set earlier through /admin/rate-limits.
  if (rateLimitsGiven(config)) {
    await settings.setRateLimits(rateLimitsOf(config), { actor: 'perdiem up', note: 'rate limits from the config' });
  }
  progress('starting the gateway…');
  const server = await startGatewayServer({
    ledger,
    registry,
    prices: settings.prices,
    settings,
    clock,
    epochSeconds,
    operatorToken,
    ...(rateLimiter ? { rateLimiter } : {}),
    refreshAllowance: (accountId) => sync.refresh(accountId),
    ...(x402
      ? {
          x402: localX402GatewayConfig(x402, {
            client,
            domain,
            nonces: nonceStore('perdiem:nonce:x402:'),
          }),
        }
      : {}),
    // When the RPC is down the gateway serves on from the allowances it has, and says so here.
    health: () => ({ chain: { rpcUrl: chain.rpcUrl, ...sync.status() } }),
    host: config.host,
    port,
    logger: pino(
      { level: 'info', redact: ['req.headers.authorization', 'authorization', 'apiKey', 'secret'] },
      pino.destination({ dest: path.join(config.home, 'gateway.log'), sync: false }),
    ),
    walletKeys: {
      // Tokens live minutes; a fresh secret per start only invalidates tokens issued before a restart.
      tokenSecret: randomBytes(32),
      nonces: nonceStore('perdiem:nonce:web3key:'),
      domain,
      chainId: chain.chainId,
      verifyMessage: (args) => client.verifyMessage(args),
      svvvStakeOf: (address) =>
        client.readContract({
          address: contracts.stakedVvv,
          abi: stakedVvvAbi,
          functionName: 'stakedOf',
          args: [address],
        }),
      onWalletLinked: (wallet) => sync.track(wallet),
    },
    dashboard: {
      root: dashboardRoot,
      chain: { chainId: chain.chainId, rpcUrl: chain.rpcUrl, contracts },
      // Served only on the local chain (31337) bound to loopback (stackConfig refuses other hosts with it), and
      // labelled there as a development wallet.
      ...(demo && config.devWallet ? { devWallet: { address: demo.address, privateKey: demo.privateKey } } : {}),
    },
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? portInUse(port, '--port') : error;
  });
  closers.push(() => server.close());

  const state: StackState = {
    gatewayUrl: server.url,
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId,
    contracts,
    fromBlock: chain.fromBlock.toString(),
    models,
    ...(demo ? { demo } : {}),
    ...(x402 ? { x402: { usdc: x402.usdc, facilitatorUrl: x402.facilitatorUrl, payTo: x402.payTo } } : {}),
    operatorToken,
  };
  writeStackState(config.home, state);
  return state;
}

interface PreparedChain {
  rpcUrl: string;
  chainId: number;
  client: PublicClient;
  contracts: PerdiemContracts;
  /** Where the event follower starts: the deployment block (or, for given contracts, `followFromBlock`/the head). */
  fromBlock: bigint;
  demo?: { address: Address; privateKey: Hex };
  /** Mines empty blocks: only on the anvil this stack started. */
  mine?: (blocks: number) => Promise<void>;
}

async function localChain(
  config: StackConfig,
  previous: StackState | undefined,
  closers: Closer[],
  progress: (line: string) => void,
): Promise<PreparedChain> {
  progress('starting the local chain (anvil)…');
  const anvil = await ownedAnvil(config, closers, progress);
  const chain = chainFor(anvil.chainId, anvil.rpcUrl);
  const client = publicClientFor(chain);
  const anvilClient = createTestClient({ mode: 'anvil', chain, transport: http(anvil.rpcUrl) });
  const mine = (blocks: number) => anvilClient.mine({ blocks });
  const base = { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, client, mine };
  if (previous?.demo && previous.chainId === anvil.chainId && (await isDeployed(client, previous.contracts))) {
    progress('resuming: contracts and demo wallet found on the chain');
    return { ...base, contracts: previous.contracts, demo: previous.demo, fromBlock: BigInt(previous.fromBlock ?? 0) };
  }
  const deployer = walletClientFor(chain, mnemonicToAccount(anvilMnemonic));
  const fromBlock = await client.getBlockNumber();
  progress('deploying VVV, sVVV, DIEM and DIEM staking…');
  const contracts = await deployPerdiem(deployer, client, defaultDeployConfig(deployer.account.address));
  progress('funding the demo wallet and taking it through stake → mint → stake DIEM…');
  const demo = await setUpDemoWallet(deployer, client, contracts);
  return { ...base, contracts, fromBlock, demo: { address: demo.address, privateKey: demo.privateKey } };
}

/**
 * Anvil with a pid file in the home (`chain/anvil.pid`): an anvil that an earlier `up` of this home left behind
 * when it was killed is stopped first, so it neither holds the port nor writes the state file under the new one.
 */
async function ownedAnvil(config: StackConfig, closers: Closer[], progress: (line: string) => void) {
  const statePath = path.join(config.home, 'chain', 'anvil-state.json');
  const pidFile = path.join(config.home, 'chain', 'anvil.pid');
  const reaped = await reapOrphan(
    pidFile,
    (cmdline) => path.basename(cmdline[0] ?? '').includes('anvil') && cmdline.includes(statePath),
  );
  if (reaped !== null) progress(`stopped the anvil (pid ${reaped}) an earlier perdiem up left running`);
  let anvil: AnvilInstance;
  try {
    anvil = await startAnvil({ port: config.chainPort, statePath, stateIntervalSeconds: anvilStateIntervalSeconds });
  } catch (error) {
    throw error instanceof AnvilPortInUseError ? portInUse(config.chainPort, '--chain-port') : error;
  }
  const record = processRecord(anvil.process.pid!, anvil.port);
  writePidFile(pidFile, record);
  closers.push(async () => {
    await anvil.stop();
    removePidFile(pidFile, record);
  });
  return anvil;
}

function portInUse(port: number, flag: string): Error {
  return new Error(portInUseMessage(port, flag, portOwner(port)));
}

function rateLimitsGiven(config: StackConfig): boolean {
  return [config.rateLimitKeyRpm, config.rateLimitKeyTpm, config.rateLimitAccountRpm, config.rateLimitAccountTpm].some(
    (value) => value !== undefined,
  );
}

/** The operator's defaults from the config; each one not given keeps the gateway's own. */
function rateLimitsOf(config: StackConfig): RateLimitConfig {
  const { key, account } = rateLimitsDefault;
  return {
    key: {
      requestsPerMinute: config.rateLimitKeyRpm ?? key.requestsPerMinute,
      tokensPerMinute: config.rateLimitKeyTpm ?? key.tokensPerMinute,
    },
    account: {
      requestsPerMinute: config.rateLimitAccountRpm ?? account.requestsPerMinute,
      tokensPerMinute: config.rateLimitAccountTpm ?? account.tokensPerMinute,
    },
  };
}

async function externalChain(config: StackConfig, progress: (line: string) => void): Promise<PreparedChain> {
  const rpcUrl = config.rpc!;
  const chainId = await publicClientFor(chainFor(1, rpcUrl))
    .getChainId()
    .catch((error: Error) => {
      throw new Error(`cannot reach the RPC at ${rpcUrl}: ${error.message.split('\n')[0]}`);
    });
  const client = publicClientFor(chainFor(chainId, rpcUrl));
  if (config.contracts) {
    const contracts = readContractsFile(config.contracts);
    if (!(await isDeployed(client, contracts)))
      throw new UsageError(`no contract code at the addresses in ${config.contracts}`);
    progress(`using the contracts in ${config.contracts} on chain ${chainId}`);
    const fromBlock =
      config.followFromBlock === undefined ? await client.getBlockNumber() : BigInt(config.followFromBlock);
    return { rpcUrl, chainId, client, contracts, fromBlock };
  }
  if (!config.operatorKey) throw new UsageError('--rpc needs --contracts FILE, or --operator-key to deploy them');
  progress(`deploying the contracts to chain ${chainId}…`);
  const wallet = walletClientFor(client.chain, privateKeyToAccount(config.operatorKey as Hex));
  const fromBlock = await client.getBlockNumber();
  const contracts = await deployPerdiem(wallet, client, defaultDeployConfig(wallet.account.address));
  return { rpcUrl, chainId, client, contracts, fromBlock };
}

function readContractsFile(file: string): PerdiemContracts {
  let parsed: { contracts?: PerdiemContracts } & Partial<PerdiemContracts>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the contracts file ${file}: ${(error as Error).message}`);
  }
  const contracts = parsed.contracts ?? parsed;
  for (const name of ['vvv', 'stakedVvv', 'diem', 'diemStaking'] as const) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(String(contracts[name])))
      throw new UsageError(`${file}: ${name} is not an address`);
  }
  return contracts as PerdiemContracts;
}

async function isDeployed(client: PublicClient, contracts: PerdiemContracts): Promise<boolean> {
  const codes = await Promise.all(Object.values(contracts).map((address) => client.getCode({ address })));
  return codes.every((code) => code !== undefined && code !== '0x');
}

async function openLedger(
  config: StackConfig,
  clock: () => number,
  epochSeconds: number,
  progress: (line: string) => void,
) {
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

/** The in-process model (a GGUF, or the generated demo model), or the configured upstreams and their models. */
async function inference(
  config: StackConfig,
  progress: (line: string) => void,
): Promise<{ providers: ProviderConfig[]; models: string[]; imageModels: string[] }> {
  if (config.upstream) {
    const imageModels = config.upstreamImageModels ?? [];
    const listed = config.upstreamModels ? [] : await upstreamModels(config.upstream, config.upstreamApiKey);
    const contextOf = new Map(listed.map((model) => [model.id, model.contextLength]));
    const models = (config.upstreamModels ?? listed.map((model) => model.id)).filter((id) => !imageModels.includes(id));
    if (models.length + imageModels.length === 0)
      throw new UsageError('the upstreams list no models; name them with --upstream-models');
    progress(`routing ${[...models, ...imageModels].join(', ')} to ${config.upstream.join(' → ')}`);
    const upstreams = config.upstream.map((baseUrl, index) => ({
      name: `upstream-${index + 1}`,
      baseUrl,
      ...(config.upstreamApiKey ? { apiKey: config.upstreamApiKey } : {}),
    }));
    const served = [
      ...models.map((id) => {
        const contextLength = contextOf.get(id);
        return contextLength === undefined ? { id } : { id, contextLength };
      }),
      ...imageModels.map((id) => ({ id, capabilities: ['image' as const] })),
    ];
    return { providers: [{ kind: 'openai', id: 'upstream', upstreams, models: served }], models, imageModels };
  }
  let modelPath = config.model;
  if (!modelPath) {
    modelPath = path.join(config.home, 'models', 'perdiem-demo.gguf');
    progress('writing the demo model (random weights, not a real model)…');
    await writeDemoModel(modelPath);
  }
  // A real GGUF is served under its file name; the generated one as perdiem-demo.
  const id = config.model ? path.basename(config.model).replace(/\.gguf$/i, '') : localModelId;
  const contextSize = await llamaContextTokens(modelPath);
  const model = { id, path: path.resolve(modelPath), ...(contextSize === undefined ? {} : { contextSize }) };
  return { providers: [{ kind: 'llama', id: 'local', models: [model], threads: 1 }], models: [id], imageModels: [] };
}

/**
 * The context the in-process model runs with (the gateway's default capped by the GGUF's training context), read
 * from the file's header so that /v1/models states it before the model is first loaded.
 */
async function llamaContextTokens(modelPath: string): Promise<number | undefined> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const info = await readGgufFileInfo(modelPath, { readTensorInfo: false, logWarnings: false });
  const trained = (info.architectureMetadata as { context_length?: unknown }).context_length;
  return typeof trained === 'number' ? Math.min(providerLimits.llamaContextSizeDefault, trained) : undefined;
}

interface UpstreamModel {
  id: string;
  contextLength?: number;
}

/** An upstream's listing, with the context length where it states one (Venice, OpenRouter or vLLM's field). */
export function upstreamModelOf(entry: Record<string, unknown>): UpstreamModel {
  const spec = entry.model_spec as { availableContextTokens?: unknown } | undefined;
  const context = [spec?.availableContextTokens, entry.context_length, entry.max_model_len].find(
    (value): value is number => Number.isSafeInteger(value) && (value as number) > 0,
  );
  return { id: String(entry.id), ...(context === undefined ? {} : { contextLength: context }) };
}

async function upstreamModels(baseUrls: string[], apiKey: string | undefined): Promise<UpstreamModel[]> {
  for (const baseUrl of baseUrls) {
    const response = await fetch(`${baseUrl.replace(/\/$/, '')}/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(upstreamProbeTimeoutMs),
    }).catch(() => null);
    if (!response?.ok) continue;
    const body = (await response.json()) as { data?: Record<string, unknown>[] };
    return (body.data ?? []).map(upstreamModelOf);
  }
  throw new UsageError(`no upstream answered GET /models: ${baseUrls.join(', ')}`);
}

/**
 * The demo wallet's account with an INFERENCE key (for requests) and an ADMIN key (to manage keys): reused when the
 * ledger still accepts them, created otherwise.
 */
async function demoAccount(
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

/** Whether `port` can be bound on `host` right now. */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port free right now on `host` (the OS picks it); the gateway binds it a moment later. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
