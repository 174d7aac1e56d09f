/**
 * `perdiem up`: the whole local stack in one command. Today: a local anvil chain (state kept under .perdiem/chain,
 * so a second `up` resumes it), the four contracts, and a demo wallet taken through stake → mint → stake DIEM.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { formatUnits } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { readDiemAllowance } from '../chain/actions.ts';
import { type AnvilInstance, anvilMnemonic, startAnvil } from '../chain/anvil.ts';
import { chainFor, type PublicClient, publicClientFor, walletClientFor } from '../chain/clients.ts';
import { setUpDemoWallet } from '../chain/demo.ts';
import { defaultDeployConfig, deployPerdiem, type PerdiemContracts } from '../chain/deploy.ts';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { readStackState, type StackState, stateFilePath, writeStackState } from './stateFile.ts';

const anvilStateIntervalSeconds = 5;

export const upCommand: Command = {
  summary: 'start the local stack: chain, contracts and a funded demo wallet',
  usage: [
    'usage: perdiem up [--home DIR] [--chain-port N] [--json]',
    '',
    '  --home DIR        where state lives (default ./.perdiem)',
    '  --chain-port N    port of the local anvil chain (default 8545; 0 = any free port)',
    '  --json            print the state as JSON instead of a summary',
    '',
    'Ctrl-C stops everything it started; the next `perdiem up` resumes the same chain.',
  ].join('\n'),
  options: {
    home: { type: 'string' },
    'chain-port': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const home = path.resolve(io.cwd, String(values.home ?? '.perdiem'));
    const port = Number(values['chain-port'] ?? 8545);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new UsageError(`bad --chain-port: ${values['chain-port']}`);
    const progress = (line: string) => {
      if (!values.json) io.out(`▸ ${line}`);
    };

    mkdirSync(path.join(home, 'chain'), { recursive: true });
    progress('starting the local chain (anvil)…');
    const anvil = await startAnvil({
      port,
      statePath: path.join(home, 'chain', 'anvil-state.json'),
      stateIntervalSeconds: anvilStateIntervalSeconds,
    });
    try {
      const state = await prepareChain(anvil, home, progress);
      writeStackState(home, state);
      io.out(values.json ? JSON.stringify(state, null, 2) : await summary(state, home));
      await io.stopRequested;
      progress('stopping…');
    } finally {
      await anvil.stop();
    }
    return 0;
  },
};

async function prepareChain(anvil: AnvilInstance, home: string, progress: (line: string) => void): Promise<StackState> {
  const chain = chainFor(anvil.chainId, anvil.rpcUrl);
  const client = publicClientFor(chain);
  const deployer = walletClientFor(chain, mnemonicToAccount(anvilMnemonic));
  const previous = readStackState(home);
  if (previous && previous.chainId === anvil.chainId && (await isDeployed(client, previous.contracts))) {
    progress('resuming: contracts and demo wallet found on the chain');
    return { ...previous, rpcUrl: anvil.rpcUrl };
  }
  progress('deploying VVV, sVVV, DIEM and DIEM staking…');
  const contracts = await deployPerdiem(deployer, client, defaultDeployConfig(deployer.account.address));
  progress('funding the demo wallet and taking it through stake → mint → stake DIEM…');
  const demo = await setUpDemoWallet(deployer, client, contracts);
  return {
    gatewayUrl: null,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    contracts,
    demo: { address: demo.address, privateKey: demo.privateKey, apiKey: null },
  };
}

async function isDeployed(client: PublicClient, contracts: PerdiemContracts): Promise<boolean> {
  const codes = await Promise.all(Object.values(contracts).map((address) => client.getCode({ address })));
  return codes.every((code) => code !== undefined && code !== '0x');
}

async function summary(state: StackState, home: string): Promise<string> {
  const chain = chainFor(state.chainId, state.rpcUrl);
  const { epoch, allowanceWei } = await readDiemAllowance(
    { client: publicClientFor(chain), contracts: state.contracts },
    state.demo.address,
  );
  return [
    '',
    'perdiem is up.',
    '',
    `  chain        ${state.rpcUrl} (chain id ${state.chainId})`,
    `  VVV          ${state.contracts.vvv}`,
    `  sVVV         ${state.contracts.stakedVvv}`,
    `  DIEM         ${state.contracts.diem}`,
    `  DIEM staking ${state.contracts.diemStaking}`,
    '',
    `  demo wallet  ${state.demo.address}  (development key, in ${stateFilePath(home)})`,
    `  allowance    ${formatUnits(allowanceWei, 18)} DIEM = $${formatUnits(allowanceWei, 18)} of inference in epoch ${epoch}`,
    '',
    'Press Ctrl-C to stop.',
  ].join('\n');
}
