/**
 * `perdiem mint AMOUNT [--max-svvv N]`: prints the mint rate and the quote (and the launch guard while it is on), then
 * mints DIEM by locking sVVV.
 */
import type { Address } from 'viem';
import { mintDiem, quoteMint } from '../chain/actions.ts';
import { stakedVvvAbi } from '../chain/generated/contracts.ts';
import { formatToken, isoSeconds, parseTokenAmount } from './amounts.ts';
import { type ReadChain, stringOption, type Values } from './context.ts';
import { txVerb } from './txVerb.ts';

function maxSvvvOption(values: Values): bigint | undefined {
  const max = stringOption(values, 'max-svvv');
  return max === undefined ? undefined : parseTokenAmount(max, '--max-svvv');
}

/** The launch guard as it applies to `holder` now, in words, or undefined when the window is over (or was never on). */
async function launchGuardText(chain: Pick<ReadChain, 'client' | 'contracts'>, holder: Address) {
  const svvv = { address: chain.contracts.stakedVvv, abi: stakedVvvAbi } as const;
  const [block, endsAt, capWei, mintedWei] = await Promise.all([
    chain.client.getBlock({ blockTag: 'latest' }),
    chain.client.readContract({ ...svvv, functionName: 'launchWindowEndsAt' }),
    chain.client.readContract({ ...svvv, functionName: 'launchMintCapWei' }),
    chain.client.readContract({ ...svvv, functionName: 'launchMintedOf', args: [holder] }),
  ]);
  if (block.timestamp >= endsAt) return undefined;
  return `until ${isoSeconds(endsAt)} each address may mint at most ${formatToken(capWei)} DIEM (this wallet: ${formatToken(mintedWei)} so far)`;
}

export const mintCommand = txVerb({
  summary: 'mint DIEM by locking sVVV (shows the rate and the quote first)',
  synopsis: 'perdiem mint AMOUNT',
  amount: 'DIEM amount',
  about:
    'Mints AMOUNT DIEM, locking sVVV from the unlocked stake at the price of the mint curve. Prints the current mint\nrate and the quote first; the transaction locks at most the quote, or --max-svvv when given.',
  options: { 'max-svvv': { type: 'string' } },
  optionsUsage: '  --max-svvv N        lock at most N sVVV (slippage bound; default: the quote)',
  check: (values) => void maxSvvvOption(values),
  async send(chain, amountWei, say, values) {
    const diemWei = amountWei!;
    const maxSvvvWei = maxSvvvOption(values);
    const mintRateWad = await chain.client.readContract({
      address: chain.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'mintRate',
    });
    const quoteWei = await quoteMint(chain, diemWei);
    const limitWei = maxSvvvWei ?? quoteWei;
    say('mint rate', `${formatToken(mintRateWad)} sVVV per DIEM (at the current supply)`);
    say('quote', `${formatToken(diemWei)} DIEM locks ${formatToken(quoteWei)} sVVV`);
    say('max sVVV', formatToken(limitWei));
    const guard = await launchGuardText(chain, chain.address);
    if (guard !== undefined) say('launch guard', guard);
    const hash = await mintDiem(chain, diemWei, limitWei);
    return { hash, facts: { diemWei, mintRateWad, quoteSvvvWei: quoteWei, maxSvvvWei: limitWei } };
  },
});
