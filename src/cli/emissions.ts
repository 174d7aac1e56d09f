/**
 * `perdiem emissions show|propose|apply|cancel`: StakedVVV's emission schedule, and the owner's timelocked changes to
 * the rate. The contract enforces every bound (ceiling, per-change bound, delay); this verb shows them before and
 * after, and says in words why a change was refused and when it becomes possible.
 */
import type { Account, Address, Hex } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { anvilMnemonic } from '../chain/anvil.ts';
import { walletClientFor } from '../chain/clients.ts';
import {
  applyAnnualEmission,
  cancelAnnualEmission,
  type EmissionSchedule,
  proposeAnnualEmission,
  readEmissionSchedule,
} from '../chain/emissions.ts';
import { durationText, formatToken, isoSeconds, noArguments, parseTokenSetting } from './amounts.ts';
import { type CliIo, type Command, UsageError } from './command.ts';
import {
  type ChainSettings,
  chainOptions,
  chainSettings,
  chainStep,
  openReadChain,
  type ReadChain,
  stringOption,
  type Values,
} from './context.ts';
import { jsonText, keyValues } from './output.ts';
import { type RevertHint, uintArgs } from './revertHints.ts';

type Action = 'propose' | 'apply' | 'cancel';

/** Lines printed before a change line up with the schedule printed after it. */
const sayLabelWidth = 14;

/** 1500n → "15%", 1234n → "12.34%". */
export function bpsText(bps: bigint): string {
  const fraction = (bps % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  return `${bps / 100n}${fraction ? `.${fraction}` : ''}%`;
}

const perYear = (wei: bigint) => `${formatToken(wei)} VVV/yr`;

function whenText(atSeconds: bigint, nowSeconds: bigint): string {
  return atSeconds <= nowSeconds
    ? `${isoSeconds(atSeconds)} (now)`
    : `${isoSeconds(atSeconds)} (in ${durationText(atSeconds - nowSeconds)})`;
}

function pendingText(s: EmissionSchedule): string {
  if (s.pending === null) return 'none';
  const { annualEmissionWei, effectiveAtSeconds } = s.pending;
  const when =
    effectiveAtSeconds <= s.nowSeconds
      ? 'can be applied now (perdiem emissions apply)'
      : `can be applied from ${whenText(effectiveAtSeconds, s.nowSeconds)}`;
  return `${perYear(annualEmissionWei)}, ${when}`;
}

function launchGuardText(s: EmissionSchedule): string {
  const guard = s.launchGuard;
  if (guard === null) return 'off';
  const cap = `each address may mint at most ${formatToken(guard.mintCapWei)} DIEM`;
  return guard.active
    ? `until ${whenText(guard.endsAtSeconds, s.nowSeconds)} ${cap}`
    : `ended ${isoSeconds(guard.endsAtSeconds)}`;
}

/** The schedule for a person: every bound the owner is held to, and what is pending. */
export function scheduleText(s: EmissionSchedule): string {
  return keyValues([
    ['owner', s.owner],
    ['pending owner', s.pendingOwner === null ? 'none' : `${s.pendingOwner} (until it calls acceptOwnership)`],
    ['rate', perYear(s.annualEmissionWei)],
    ['effective rate', `${perYear(s.effectiveAnnualEmissionWei)} (the lower of the rate and the ceiling)`],
    [
      'ceiling',
      `${perYear(s.ceilingWei)} (${formatToken(s.launchCeilingWei)} at launch, falling ${bpsText(s.emissionDecayBps)} every 365 days)`,
    ],
    [
      'next step',
      s.nextStep === null
        ? 'none (the ceiling no longer changes)'
        : `${whenText(s.nextStep.atSeconds, s.nowSeconds)}: ${perYear(s.nextStep.ceilingWei)}`,
    ],
    ['per change', `at most ${perYear(s.maxChangeWei)} (${bpsText(s.maxEmissionChangeBps)} of the ceiling)`],
    [
      'delay',
      `${durationText(s.emissionChangeDelaySeconds)} (${s.emissionChangeDelaySeconds} s) from propose to apply`,
    ],
    ['pending', pendingText(s)],
    ['launch guard', launchGuardText(s)],
  ]);
}

/** The emission refusals in words, against the schedule read just before the call. */
function emissionHint(s: EmissionSchedule): RevertHint {
  return (errorName, args) => {
    const [a = 0n, b = 0n, c = 0n] = uintArgs(args);
    switch (errorName) {
      case 'StakedVVVEmissionChangeNotReady':
        return `too early: the change can be applied from ${whenText(a, s.nowSeconds)}`;
      case 'StakedVVVEmissionChangeTooLarge': {
        const low = a > c ? a - c : 0n;
        return `one change moves the rate by at most ${perYear(c)} (${bpsText(s.maxEmissionChangeBps)} of the ceiling when it applies): from ${formatToken(a)}, propose between ${formatToken(low)} and ${formatToken(a + c)} (and at most the ceiling)`;
      }
      case 'StakedVVVEmissionAboveCeiling':
        return `the ceiling when the change would apply is ${perYear(b)}`;
      case 'StakedVVVEmissionChangePending':
        return `a change to ${perYear(a)} is already pending (applicable from ${whenText(b, s.nowSeconds)}); cancel it first with \`perdiem emissions cancel\``;
      case 'StakedVVVNoEmissionChangePending':
        return 'no change is pending';
      case 'OwnableUnauthorizedAccount':
        return `${String(args[0])} is not the owner of StakedVVV (the owner is ${s.owner})`;
      default:
        return undefined;
    }
  };
}

/** True when the chain and contracts are those of the state file written by `perdiem up` on its local anvil. */
function onUpLocalChain(settings: ChainSettings): boolean {
  const state = settings.state;
  return (
    state?.demo !== undefined &&
    state.rpcUrl === settings.rpcUrl &&
    state.contracts.stakedVvv.toLowerCase() === settings.contracts.stakedVvv.toLowerCase()
  );
}

function keyAccount(key: string, name: string): Account {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError(`${name} must be a 0x-prefixed 32-byte hex key`);
  return privateKeyToAccount(key as Hex);
}

/**
 * Who sends: --private-key, then PERDIEM_DEPLOYER_KEY; for `apply` (anyone may apply) also PERDIEM_PRIVATE_KEY.
 * Failing those, on the local chain of `perdiem up`, the one of its deployer (anvil's first development account,
 * the owner there) and its demo wallet that owns StakedVVV, and for `apply` the demo wallet.
 */
function signer(values: Values, io: CliIo, settings: ChainSettings, owner: Address, action: Action): Account {
  const given = stringOption(values, 'private-key');
  if (given !== undefined) return keyAccount(given, '--private-key');
  if (io.env.PERDIEM_DEPLOYER_KEY) return keyAccount(io.env.PERDIEM_DEPLOYER_KEY, 'PERDIEM_DEPLOYER_KEY');
  if (action === 'apply' && io.env.PERDIEM_PRIVATE_KEY) {
    return keyAccount(io.env.PERDIEM_PRIVATE_KEY, 'PERDIEM_PRIVATE_KEY');
  }
  if (onUpLocalChain(settings)) {
    const demo = privateKeyToAccount(settings.state!.demo!.privateKey);
    const local = [mnemonicToAccount(anvilMnemonic), demo];
    const isOwner = local.find((account) => account.address.toLowerCase() === owner.toLowerCase());
    if (isOwner !== undefined) return isOwner;
    if (action === 'apply') return demo;
  }
  throw new UsageError(
    `${action} needs ${action === 'apply' ? 'a wallet with gas' : `the owner's key (the owner is ${owner})`}: pass --private-key or set PERDIEM_DEPLOYER_KEY`,
  );
}

function parseRate(rest: string[]): bigint {
  if (rest.length === 0) throw new UsageError('missing the new rate, in VVV per year');
  if (rest.length > 1) throw new UsageError(`unexpected arguments: ${rest.slice(1).join(' ')}`);
  return parseTokenSetting(rest[0]!, 'VVV_PER_YEAR');
}

async function show(read: ReadChain, io: CliIo, json: boolean): Promise<number> {
  const schedule = await chainStep(() => readEmissionSchedule(read));
  io.out(json ? jsonText(schedule) : scheduleText(schedule));
  return 0;
}

async function change(
  action: Action,
  rateWei: bigint | undefined,
  settings: ChainSettings,
  values: Values,
  io: CliIo,
): Promise<number> {
  const json = values.json === true;
  const read = await openReadChain(settings);
  const before = await chainStep(() => readEmissionSchedule(read));
  const account = signer(values, io, settings, before.owner, action);
  const ctx = { ...read, wallet: walletClientFor(read.client.chain, account) };
  const say = (label: string, value: string) => {
    if (!json) io.out(`${label.padEnd(sayLabelWidth)}  ${value}`);
  };
  say('from', account.address);
  if (action === 'propose') {
    say(
      'propose',
      `${perYear(rateWei!)} (now ${formatToken(before.annualEmissionWei)}; at most ±${formatToken(before.maxChangeWei)} per change)`,
    );
    say('applicable', `from ${whenText(before.nowSeconds + before.emissionChangeDelaySeconds, before.nowSeconds)}`);
  }
  if (action !== 'propose' && before.pending !== null) say(action, pendingText(before));
  const send = {
    propose: () => proposeAnnualEmission(ctx, rateWei!),
    apply: () => applyAnnualEmission(ctx),
    cancel: () => cancelAnnualEmission(ctx),
  }[action];
  const hash = await chainStep(send, emissionHint(before));
  const after = await chainStep(() => readEmissionSchedule(read));
  if (json) {
    io.out(jsonText({ txHash: hash, from: account.address, schedule: after }));
  } else {
    io.out(`tx ${hash}`);
    io.out('');
    io.out(scheduleText(after));
  }
  return 0;
}

export const emissionsCommand: Command = {
  summary: 'the emission schedule; the owner proposes, applies or cancels a timelocked rate change',
  usage: [
    'usage: perdiem emissions show [options]',
    '       perdiem emissions propose VVV_PER_YEAR [options]',
    '       perdiem emissions apply [options]',
    '       perdiem emissions cancel [options]',
    '',
    'show prints the rate, the effective rate, the ceiling now and its next 365-day step, the per-change bound, the',
    'timelock, any pending proposal and when it can be applied, and the owner (and a pending new owner).',
    'propose queues a new rate (whole VVV per year, e.g. 12000000; 0 stops emissions). It must be within the per-change',
    'bound of the effective rate and not above the ceiling when it applies; it can be applied after the delay.',
    'apply applies the pending proposal once its time has come (anyone may apply). cancel drops it.',
    'propose and cancel are owner only.',
    '',
    '  --private-key KEY   the sending key (or PERDIEM_DEPLOYER_KEY; for apply also PERDIEM_PRIVATE_KEY); default on',
    '                      the local chain of `perdiem up`: its deployer, the owner there',
    '  --rpc URL           JSON-RPC endpoint (default: rpcUrl in .perdiem/state.json)',
    '  --contracts FILE    JSON with {vvv, stakedVvv, diem, diemStaking}, or `perdiem deploy --json` output',
    '                      (default: the contracts in .perdiem/state.json)',
    '  --home DIR          where state.json lives (default ./.perdiem)',
    '  --json              machine-readable output',
  ].join('\n'),
  options: chainOptions,
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    if (action === 'show') {
      noArguments(rest);
      const settings = chainSettings(values, io);
      return show(await openReadChain(settings), io, values.json === true);
    }
    if (action === 'propose') {
      const rateWei = parseRate(rest);
      return change('propose', rateWei, chainSettings(values, io), values, io);
    }
    if (action === 'apply' || action === 'cancel') {
      noArguments(rest);
      return change(action, undefined, chainSettings(values, io), values, io);
    }
    throw new UsageError(
      action === undefined ? 'missing the action: show, propose, apply or cancel' : `unknown action: ${action}`,
    );
  },
};
