/**
 * `perdiem allocate set|revoke|list`: a DIEM staker (a team treasury) hands slices of its daily allowance to member
 * wallets on chain (DiemStaking.setAllocation). A change takes effect at the next epoch boundary, so every view shows
 * the current epoch and the next.
 */
import { type Address, getAddress, isAddress } from 'viem';
import { setAllocation } from '../chain/actions.ts';
import { type AllocationsView, readAllocations } from '../chain/allocations.ts';
import { formatToken, noArguments, parseTokenAmount } from './amounts.ts';
import { type CliIo, type Command, UsageError } from './command.ts';
import {
  chainOptions,
  chainSettings,
  chainStep,
  chainUsage,
  openReadChain,
  openWalletChain,
  stringOption,
  type Values,
} from './context.ts';
import { jsonText, keyValues, table } from './output.ts';
import { uintArgs } from './revertHints.ts';

const diem = (wei: bigint) => `${formatToken(wei)} DIEM`;

function addressOf(text: string | undefined, what: string): Address {
  if (text === undefined) throw new UsageError(`missing the ${what}`);
  if (!isAddress(text)) throw new UsageError(`the ${what} is not an address: ${text}`);
  return getAddress(text);
}

/** The allocations of one wallet for a person: its own figures, then the table out and the table in. */
export function allocationsText(view: AllocationsView): string {
  const rows = (lines: AllocationsView['out']) =>
    lines.map((line) => [line.wallet, formatToken(line.currentWei), formatToken(line.nextWei)]);
  const blocks = [
    keyValues([
      ['wallet', view.wallet],
      ['epoch', `${view.epoch} (changes take effect at epoch ${view.epoch + 1n})`],
      ['staked', diem(view.stakedWei)],
      ['allowance', `${diem(view.allowanceWei)} this epoch, ${diem(view.nextAllowanceWei)} next`],
      ['allocated out', `${diem(view.outCurrentWei)} this epoch, ${diem(view.outNextWei)} next`],
      ['allocated in', `${diem(view.inCurrentWei)} this epoch, ${diem(view.inNextWei)} next`],
    ]),
  ];
  if (view.out.length > 0) blocks.push(table(['member', 'this epoch', 'next epoch'], rows(view.out), [1, 2]));
  if (view.in.length > 0) blocks.push(table(['from', 'this epoch', 'next epoch'], rows(view.in), [1, 2]));
  return blocks.join('\n\n');
}

/** The allocation refusals in words. */
function allocationHint(errorName: string, args: readonly unknown[]): string | undefined {
  const [a = 0n, b = 0n] = uintArgs(args);
  switch (errorName) {
    case 'DiemStakingAllocationExceedsStake':
      return `allocations from the next epoch would total ${diem(a)}, more than the ${diem(b)} this wallet has staked (received allocations cannot be passed on); stake more DIEM or lower another allocation`;
    case 'DiemStakingAllocationBelowMinimum':
      return `an allocation must be 0 (revoke) or at least ${diem(b)}`;
    case 'DiemStakingAllocationUnchanged':
      return `${diem(a)} is already the amount from the next epoch`;
    case 'DiemStakingSelfAllocation':
      return 'a wallet cannot allocate to itself';
    case 'DiemStakingTooManyMembers':
      return `a wallet can allocate to at most ${a} members at once; revoke one first`;
    default:
      return undefined;
  }
}

async function change(values: Values, io: CliIo, member: Address, amountWei: bigint): Promise<number> {
  const json = values.json === true;
  const chain = await openWalletChain(values, io);
  if (!json)
    io.out(
      keyValues([
        ['from', chain.address],
        ['member', member],
        ['amount', `${diem(amountWei)} per epoch, from the next epoch`],
      ]),
    );
  const hash = await chainStep(() => setAllocation(chain, member, amountWei), allocationHint);
  const view = await chainStep(() => readAllocations(chain, chain.address));
  if (json) {
    io.out(jsonText({ txHash: hash, member, amountWei, effectiveEpoch: view.epoch + 1n, allocations: view }));
  } else {
    io.out(`tx ${hash}`);
    io.out('');
    io.out(allocationsText(view));
  }
  return 0;
}

async function list(values: Values, io: CliIo): Promise<number> {
  const given = stringOption(values, 'wallet');
  const settings = chainSettings(values, io);
  let wallet: Address;
  if (given !== undefined) wallet = addressOf(given, '--wallet');
  else if (settings.privateKey !== undefined) wallet = (await openWalletChain(values, io)).address;
  else throw new UsageError('no wallet: pass --wallet ADDRESS or --private-key');
  const read = await openReadChain(settings);
  const view = await chainStep(() => readAllocations(read, wallet));
  io.out(values.json === true ? jsonText(view) : allocationsText(view));
  return 0;
}

export const allocateCommand: Command = {
  summary: 'allocate part of your DIEM allowance to member wallets (takes effect next epoch)',
  usage: [
    'usage: perdiem allocate set MEMBER AMOUNT [options]',
    '       perdiem allocate revoke MEMBER [options]',
    '       perdiem allocate list [--wallet ADDRESS] [options]',
    '',
    'set gives the wallet MEMBER AMOUNT DIEM (whole tokens, e.g. 25 or 0.5) of your allowance per epoch, replacing',
    'what it had; revoke sets it to 0. Changes take effect at the next epoch boundary (UTC midnight by default): the',
    "current epoch keeps today's allocations. Your allocations together may not exceed your staked DIEM, and an",
    'unstake that would leave less staked than you allocate is refused: lower the allocations first. Your own',
    'allowance is your stake minus what you allocate; a member spends its slice on any gateway with its own key.',
    'list shows, for your wallet (or --wallet ADDRESS), its stake, its allowance, what it allocates per member and',
    'what it receives per delegator, for the current epoch and the next.',
    '',
    '  --wallet ADDRESS    list: the wallet to show (default: the holder key)',
    chainUsage,
  ].join('\n'),
  options: { ...chainOptions, wallet: { type: 'string' } },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    if (action !== 'list' && values.wallet !== undefined) throw new UsageError('--wallet applies to list only');
    if (action === 'set') {
      const member = addressOf(rest[0], 'member address');
      if (rest[1] === undefined) throw new UsageError('missing the DIEM amount');
      noArguments(rest.slice(2));
      return change(values, io, member, parseTokenAmount(rest[1], 'DIEM amount'));
    }
    if (action === 'revoke') {
      const member = addressOf(rest[0], 'member address');
      noArguments(rest.slice(1));
      return change(values, io, member, 0n);
    }
    if (action === 'list') {
      noArguments(rest);
      return list(values, io);
    }
    throw new UsageError(
      action === undefined ? 'missing the action: set, revoke or list' : `unknown action: ${action}`,
    );
  },
};
