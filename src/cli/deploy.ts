/**
 * `perdiem deploy`: deploys the contracts (with the PriceRegistry) to any RPC with the given key, with the emission schedule and the
 * launch guard from flags, and prints their addresses and the schedule as deployed. StakedVVV's constructor is
 * dry-run first, so settings it refuses are a usage error that names its custom error, and nothing is sent.
 */
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { chainFor, publicClientFor, walletClientFor } from '../chain/clients.ts';
import { type DeployConfig, DeployConfigRejectedError, defaultDeployConfig, deployPerdiem } from '../chain/deploy.ts';
import { readEmissionSchedule } from '../chain/emissions.ts';
import { epochSecondsDefault } from '../core/epoch.ts';
import { formatToken, noArguments, parseCountSetting, parseTokenSetting } from './amounts.ts';
import { type Command, UsageError } from './command.ts';
import { probeRpc, stringOption, type Values } from './context.ts';
import { scheduleText } from './emissions.ts';
import { jsonText } from './output.ts';
import { uintArgs } from './revertHints.ts';

const defaults = defaultDeployConfig('0x0000000000000000000000000000000000000000');
const tokens = (wei: bigint) => formatToken(wei);

/** The flags of the schedule and the guard, each with the config field it sets and how it is parsed. */
const settingFlags = {
  'annual-emission': { field: 'annualEmissionWei', parse: parseTokenSetting },
  'emission-ceiling': { field: 'maxAnnualEmissionWei', parse: parseTokenSetting },
  'emission-decay-bps': { field: 'emissionDecayBps', parse: parseCountSetting },
  'emission-change-bps': { field: 'maxEmissionChangeBps', parse: parseCountSetting },
  'emission-delay-seconds': { field: 'emissionChangeDelaySeconds', parse: parseCountSetting },
  'launch-window-seconds': { field: 'launchWindowSeconds', parse: parseCountSetting },
  'launch-mint-cap': { field: 'launchMintCapWei', parse: parseTokenSetting },
} as const satisfies Record<
  string,
  { field: keyof DeployConfig['stakedVvv']; parse: (text: string, name: string) => bigint }
>;

const d = defaults.stakedVvv;

export const deployUsage = [
  'usage: perdiem deploy --rpc URL --private-key 0x… [settings] [--json]',
  '',
  '  --rpc URL                    JSON-RPC endpoint of any EVM chain',
  '  --private-key KEY            deployer key; also the owner and the holder of the genesis VVV supply',
  '                               (or set PERDIEM_DEPLOYER_KEY)',
  `  --epoch-seconds N            DIEM allowance epoch length (default ${epochSecondsDefault}; the DIEM cooldown equals it)`,
  '  --json                       print the addresses and the schedule as JSON',
  '',
  'emission schedule (token amounts in whole VVV, e.g. 10000000 or 0.5; fixed at deployment except the rate):',
  `  --annual-emission VVV        VVV per year to stakers at launch (default ${tokens(d.annualEmissionWei)})`,
  `  --emission-ceiling VVV       the ceiling at launch; the rate can never exceed it (default ${tokens(d.maxAnnualEmissionWei)})`,
  `  --emission-decay-bps N       the ceiling falls by N/10,000 every 365 days (default ${d.emissionDecayBps}; at most 10000)`,
  `  --emission-change-bps N      one rate change moves it by at most N/10,000 of the ceiling (default ${d.maxEmissionChangeBps};`,
  '                               0 freezes the rate)',
  `  --emission-delay-seconds N   timelock from propose to apply (default ${d.emissionChangeDelaySeconds}; at most 365 days)`,
  '',
  'launch guard (off by default):',
  '  --launch-window-seconds N    for N seconds after deployment each address may mint at most --launch-mint-cap',
  '  --launch-mint-cap DIEM       DIEM per address during the window (with a window and a cap of 0, nobody can mint)',
].join('\n');

/** The config from the flags: defaults for the deployer, overridden by every flag given. */
export function deployConfigOf(values: Values, owner: Hex): DeployConfig {
  const base = defaultDeployConfig(owner);
  const stakedVvv = { ...base.stakedVvv };
  for (const [flag, { field, parse }] of Object.entries(settingFlags)) {
    const text = stringOption(values, flag);
    if (text !== undefined) stakedVvv[field] = parse(text, `--${flag}`);
  }
  const epochText = stringOption(values, 'epoch-seconds');
  const epochSeconds =
    epochText === undefined ? base.diemStaking.epochSeconds : parseCountSetting(epochText, '--epoch-seconds');
  if (epochSeconds === 0n) throw new UsageError('--epoch-seconds must be positive');
  return { ...base, stakedVvv, diemStaking: { ...base.diemStaking, epochSeconds, cooldownSeconds: epochSeconds } };
}

/** A constructor refusal in terms of the flag that caused it. */
function rejectionWords(error: DeployConfigRejectedError): string | undefined {
  const [a = 0n, b = 0n] = uintArgs(error.errorArgs);
  switch (error.errorName) {
    case 'StakedVVVEmissionAboveCeiling':
      return `--annual-emission ${formatToken(a)} is above --emission-ceiling ${formatToken(b)}`;
    case 'StakedVVVEmissionBoundTooHigh':
      return `--emission-ceiling is at most ${formatToken(b)} VVV (2^128 - 1 wei)`;
    case 'StakedVVVInvalidEmissionDecay':
      return `--emission-decay-bps is at most 10000 (100% a year), got ${a}`;
    case 'StakedVVVInvalidEmissionChange':
      return `--emission-change-bps is at most 10000 (the whole ceiling), got ${a}`;
    case 'StakedVVVEmissionDelayTooLong':
      return `--emission-delay-seconds is at most ${b} (365 days), got ${a}`;
    default:
      return undefined;
  }
}

export const deployCommand: Command = {
  summary: 'deploy VVV, sVVV, DIEM and DIEM staking to an RPC, with the emission schedule and launch guard',
  usage: deployUsage,
  options: {
    rpc: { type: 'string' },
    'private-key': { type: 'string' },
    'epoch-seconds': { type: 'string' },
    json: { type: 'boolean' },
    ...Object.fromEntries(Object.keys(settingFlags).map((flag) => [flag, { type: 'string' as const }])),
  },
  async run(values, positionals, io) {
    noArguments(positionals);
    const rpcUrl = stringOption(values, 'rpc');
    const key = stringOption(values, 'private-key') ?? io.env.PERDIEM_DEPLOYER_KEY;
    if (rpcUrl === undefined) throw new UsageError('--rpc is required');
    if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      throw new UsageError('--private-key must be a 0x-prefixed 32-byte hex key');
    }
    const account = privateKeyToAccount(key as Hex);
    const config = deployConfigOf(values, account.address);

    const chainId = await probeRpc(rpcUrl);
    const chain = chainFor(chainId, rpcUrl);
    const client = publicClientFor(chain);
    const contracts = await deployPerdiem(walletClientFor(chain, account), client, config).catch((error: unknown) => {
      if (!(error instanceof DeployConfigRejectedError)) throw error;
      const words = rejectionWords(error);
      throw new UsageError(`StakedVVV refuses these settings: ${error.message}${words ? ` — ${words}` : ''}`);
    });
    const schedule = await readEmissionSchedule({ client, contracts });
    if (values.json) {
      io.out(jsonText({ chainId, contracts, schedule }));
      return 0;
    }
    io.out(
      Object.entries(contracts)
        .map(([name, address]) => `${name.padEnd(13)} ${address}`)
        .join('\n'),
    );
    io.out('');
    io.out(scheduleText(schedule));
    return 0;
  },
};
