/**
 * The chain behind `perdiem up`: the stack's own anvil (resumed from the home, or deployed to with a demo wallet), or
 * an external RPC with given or freshly deployed contracts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Address, createTestClient, type Hex, http } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { type AnvilInstance, AnvilPortInUseError, anvilMnemonic, startAnvil } from '../../chain/anvil.ts';
import { chainFor, type PublicClient, publicClientFor, walletClientFor } from '../../chain/clients.ts';
import { setUpDemoWallet } from '../../chain/demo.ts';
import { defaultDeployConfig, deployPerdiem, type PerdiemContracts } from '../../chain/deploy.ts';
import { diemStakingAbi } from '../../chain/generated/contracts.ts';
import { UsageError } from '../command.ts';
import { anvilStateIntervalSeconds } from '../limits.ts';
import { processRecord, reapOrphan, removePidFile, writePidFile } from '../processes.ts';
import type { StackConfig } from '../stackConfig.ts';
import type { StackState } from '../stateFile.ts';
import type { Closer, Progress } from './closers.ts';
import { portInUse } from './ports.ts';

export interface PreparedChain {
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

/** The allowance epoch of the deployment, in seconds. */
export async function epochSecondsOf(chain: PreparedChain): Promise<number> {
  const { client, contracts } = chain;
  return Number(
    await client.readContract({ address: contracts.diemStaking, abi: diemStakingAbi, functionName: 'epochSeconds' }),
  );
}

export async function localChain(
  config: StackConfig,
  previous: StackState | undefined,
  closers: Closer[],
  progress: Progress,
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
async function ownedAnvil(config: StackConfig, closers: Closer[], progress: Progress) {
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

export async function externalChain(config: StackConfig, progress: Progress): Promise<PreparedChain> {
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
