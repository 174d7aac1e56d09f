/**
 * `perdiem transfer-svvv TO AMOUNT`: sends unlocked sVVV to another wallet. Locked sVVV (behind minted DIEM) and
 * cooling sVVV cannot move; asking for more than the unlocked part is refused before anything is sent.
 */
import type { Address } from 'viem';
import { transferSvvv } from '../chain/actions.ts';
import { stakedVvvAbi } from '../chain/generated/contracts.ts';
import { formatToken } from './amounts.ts';
import type { ReadChain } from './context.ts';
import { txVerb } from './txVerb.ts';

/** Why `amountWei` cannot move, in words, or undefined when the unlocked sVVV covers it. */
async function refusal(chain: Pick<ReadChain, 'client' | 'contracts'>, holder: Address, amountWei: bigint) {
  const svvv = { address: chain.contracts.stakedVvv, abi: stakedVvvAbi } as const;
  const [unlockedWei, lockedWei, [coolingWei]] = await Promise.all([
    chain.client.readContract({ ...svvv, functionName: 'unlockedOf', args: [holder] }),
    chain.client.readContract({ ...svvv, functionName: 'lockedOf', args: [holder] }),
    chain.client.readContract({ ...svvv, functionName: 'coolingOf', args: [holder] }),
  ]);
  if (amountWei <= unlockedWei) return undefined;
  const held = [
    lockedWei > 0n
      ? `${formatToken(lockedWei)} is locked behind the DIEM this wallet minted (burn DIEM to unlock it)`
      : '',
    coolingWei > 0n ? `${formatToken(coolingWei)} is cooling (unstaking)` : '',
  ].filter(Boolean);
  return `cannot transfer ${formatToken(amountWei)} sVVV: only ${formatToken(unlockedWei)} is unlocked${held.length > 0 ? `; ${held.join(', ')}` : ''}`;
}

export const transferSvvvCommand = txVerb({
  summary: 'send unlocked sVVV to another wallet',
  synopsis: 'perdiem transfer-svvv TO AMOUNT',
  recipient: 'recipient address',
  amount: 'sVVV amount',
  about: [
    'Sends AMOUNT unlocked sVVV (whole tokens, e.g. 100 or 0.5) to the wallet TO. sVVV is an ERC20, but only its',
    'unlocked part moves: sVVV locked behind minted DIEM stays with the minter until it burns the DIEM, and sVVV in',
    'its unstake cooldown stays until withdraw. Emissions follow the holder: what the sender earned so far stays',
    'with it (claimable later), and TO earns on the sVVV from the transfer on.',
  ].join('\n'),
  async send(chain, amountWei, say, _values, recipient) {
    const to = recipient!;
    const reason = await refusal(chain, chain.address, amountWei!);
    if (reason !== undefined) throw new Error(reason);
    say('to', to);
    say('amount', `${formatToken(amountWei!)} sVVV`);
    const hash = await transferSvvv(chain, to, amountWei!);
    return { hash, facts: { to, amountWei } };
  },
});
