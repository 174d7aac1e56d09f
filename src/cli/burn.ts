/** `perdiem burn AMOUNT`: prints what burning unlocks (`quoteBurn`), then burns DIEM to unlock sVVV. */
import { burnDiem } from '../chain/actions.ts';
import { stakedVvvAbi } from '../chain/generated/contracts.ts';
import { formatToken } from './amounts.ts';
import { txVerb } from './txVerb.ts';

export const burnCommand = txVerb({
  summary: 'burn DIEM to unlock the sVVV it locked (shows the quote first)',
  synopsis: 'perdiem burn AMOUNT',
  amount: 'DIEM amount',
  about:
    "Burns AMOUNT DIEM held by the wallet and unlocks the wallet's own locked sVVV pro rata, at the ratio it locked at.",
  async send(chain, amountWei, say) {
    const diemWei = amountWei!;
    const quoteWei = await chain.client.readContract({
      address: chain.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'quoteBurn',
      args: [chain.address, diemWei],
    });
    say('quote', `burning ${formatToken(diemWei)} DIEM unlocks ${formatToken(quoteWei)} sVVV`);
    const hash = await burnDiem(chain, diemWei);
    return { hash, facts: { diemWei, quoteSvvvWei: quoteWei } };
  },
});
