/**
 * The shape shared by the verbs that send one holder transaction: parse the amount, open the wallet, send (through
 * actions.ts: simulate first, decoded reverts), then print the tx hash and the wallet's resulting holdings.
 */
import { type Address, getAddress, type Hex, isAddress } from 'viem';
import type { ChainContext } from '../chain/actions.ts';
import { amountArgument, noArguments } from './amounts.ts';
import { type CliIo, type Command, type OptionSpec, UsageError } from './command.ts';
import { chainOptions, chainStep, chainUsage, openWalletChain, type Values } from './context.ts';
import { holdingsText, readHoldings } from './holdings.ts';
import { jsonText } from './output.ts';

/** Lines printed before a transaction (quotes) line up with the holdings printed after it. */
const sayLabelWidth = 12;

export interface SendResult {
  hash: Hex;
  /** Extra facts for --json (quotes, limits); bigints print as decimal strings. */
  facts?: Record<string, unknown>;
}

export interface TxVerbSpec {
  summary: string;
  /** e.g. 'perdiem stake AMOUNT'. */
  synopsis: string;
  /** What the positional amount means ('VVV amount'); omitted for verbs without one. */
  amount?: string;
  /** What an address given before the amount means ('recipient'); omitted for verbs without one. */
  recipient?: string;
  about: string;
  options?: OptionSpec;
  optionsUsage?: string;
  /** Validates the verb's own options before the chain is opened, so a typo is a usage error (exit 2). */
  check?(values: Values): void;
  send(
    chain: ChainContext & { address: Address },
    amountWei: bigint | undefined,
    say: (label: string, value: string) => void,
    values: Values,
    recipient: Address | undefined,
  ): Promise<SendResult>;
}

export function txVerb(spec: TxVerbSpec): Command {
  return {
    summary: spec.summary,
    usage: [
      `usage: ${spec.synopsis} [options]`,
      '',
      spec.about,
      '',
      ...(spec.optionsUsage ? [spec.optionsUsage] : []),
      chainUsage,
    ].join('\n'),
    options: { ...chainOptions, ...spec.options },
    async run(values, positionals, io) {
      const recipient = spec.recipient === undefined ? undefined : addressArgument(positionals, spec.recipient);
      const rest = spec.recipient === undefined ? positionals : positionals.slice(1);
      const amountWei = spec.amount === undefined ? undefined : amountArgument(rest, spec.amount);
      if (spec.amount === undefined) noArguments(rest);
      spec.check?.(values);
      const chain = await openWalletChain(values, io);
      const json = values.json === true;
      const say = (label: string, value: string) => {
        if (!json) io.out(`${label.padEnd(sayLabelWidth)}  ${value}`);
      };
      const result = await chainStep(() => spec.send(chain, amountWei, say, values, recipient));
      const holdings = await readHoldings(chain, chain.address);
      report(io, json, result, holdings);
      return 0;
    },
  };
}

function addressArgument(positionals: string[], what: string): Address {
  const given = positionals[0];
  if (given === undefined) throw new UsageError(`missing the ${what}`);
  if (!isAddress(given)) throw new UsageError(`the ${what} is not an address: ${given}`);
  return getAddress(given);
}

function report(io: CliIo, json: boolean, result: SendResult, holdings: Awaited<ReturnType<typeof readHoldings>>) {
  if (json) {
    io.out(jsonText({ txHash: result.hash, ...result.facts, holdings }));
    return;
  }
  io.out(`tx ${result.hash}`);
  io.out('');
  io.out(holdingsText(holdings));
}
