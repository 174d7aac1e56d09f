/**
 * `perdiem balance`: the account's spendable balance at the gateway and, when a wallet and a chain are known, the
 * wallet's on-chain position (VVV, sVVV unlocked/locked/cooling, DIEM held/staked/cooling, today's allowance).
 */
import { type Address, isAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { noArguments } from './amounts.ts';
import type { CliIo } from './command.ts';
import { type Command, UsageError } from './command.ts';
import { chainOptions, chainSettings, openReadChain, stringOption, type Values } from './context.ts';
import { gatewayOptions, openGateway } from './gatewayClient.ts';
import { type Holdings, holdingsText, readHoldings } from './holdings.ts';
import { jsonText, keyValues } from './output.ts';

interface GatewayBalance {
  canConsume: boolean;
  consumptionSource: string | null;
  balances: { diem: number; usd: number; credits: number };
  diemEpochAllocation: number;
  epoch: number;
  nextEpochBegins: string;
}

export const balanceCommand: Command = {
  summary: "the account's balance at the gateway and the wallet's on-chain position",
  usage: [
    'usage: perdiem balance [--address 0x…] [--gateway-only | --chain-only] [options]',
    '',
    'The gateway part needs an API key; the chain part a wallet (--address, --private-key or the demo wallet)',
    'and the chain (--rpc and --contracts, or state.json).',
    '',
    '  --address ADDR      the wallet to read on chain (default: from --private-key, or the demo wallet)',
    '  --gateway-only      skip the chain',
    '  --chain-only        skip the gateway',
    '  --gateway URL       the gateway (default: gatewayUrl in .perdiem/state.json)',
    '  --api-key KEY       API key (or PERDIEM_API_KEY; default: the demo key of `perdiem up`)',
    '  --rpc URL, --contracts FILE, --private-key KEY   as for `perdiem stake`',
    '  --home DIR          where state.json lives (default ./.perdiem)',
    '  --json              machine-readable output',
  ].join('\n'),
  options: {
    ...gatewayOptions,
    ...chainOptions,
    address: { type: 'string' },
    'gateway-only': { type: 'boolean' },
    'chain-only': { type: 'boolean' },
  },
  async run(values, positionals, io) {
    noArguments(positionals);
    if (values['gateway-only'] && values['chain-only']) {
      throw new UsageError('--gateway-only and --chain-only exclude each other');
    }
    const address = walletAddress(values, io);
    const gateway = values['chain-only'] ? null : await gatewayBalance(values, io);
    const chain = values['gateway-only'] || address === undefined ? null : await chainHoldings(values, io, address);
    if (values['chain-only'] && chain === null) {
      throw new UsageError('no wallet: pass --address or --private-key, or run `perdiem up` first');
    }
    if (values.json) io.out(jsonText({ gateway, chain }));
    else io.out([gateway && gatewayText(gateway), chain && holdingsText(chain)].filter(Boolean).join('\n\n'));
    return 0;
  },
};

function walletAddress(values: Values, io: CliIo): Address | undefined {
  const given = stringOption(values, 'address');
  if (given !== undefined) {
    if (!isAddress(given)) throw new UsageError(`--address is not an address: ${given}`);
    return given;
  }
  const state = chainSettingsOrUndefined(values, io);
  if (state?.privateKey) return privateKeyToAccount(state.privateKey).address;
  return undefined;
}

function chainSettingsOrUndefined(values: Values, io: CliIo) {
  try {
    return chainSettings(values, io);
  } catch (error) {
    if (error instanceof UsageError) return undefined;
    throw error;
  }
}

async function gatewayBalance(values: Values, io: CliIo): Promise<GatewayBalance> {
  const answer = await openGateway(values, io, 'api-key').request('GET', '/api/v1/billing/balance');
  return answer.body as GatewayBalance;
}

async function chainHoldings(values: Values, io: CliIo, address: Address): Promise<Holdings | null> {
  const settings = chainSettingsOrUndefined(values, io);
  if (settings === undefined) {
    if (values['chain-only'] || stringOption(values, 'address') !== undefined) chainSettings(values, io);
    return null;
  }
  return readHoldings(await openReadChain(settings), address);
}

function gatewayText(b: GatewayBalance): string {
  return keyValues([
    ['DIEM', `$${b.balances.diem} left of $${b.diemEpochAllocation} this epoch (epoch ${b.epoch})`],
    ['credits', `$${b.balances.credits}`],
    ['USD', `$${b.balances.usd}`],
    ['spends from', b.canConsume ? (b.consumptionSource ?? '-') : 'nothing (no balance left)'],
    ['next epoch', b.nextEpochBegins],
  ]);
}
