/** `perdiem stake AMOUNT`: stakes VVV for sVVV (approving StakedVVV first when needed). */
import { stakeVvv } from '../chain/actions.ts';
import { txVerb } from './txVerb.ts';

export const stakeCommand = txVerb({
  summary: 'stake VVV (receive sVVV)',
  synopsis: 'perdiem stake AMOUNT',
  amount: 'VVV amount',
  about: 'Stakes AMOUNT VVV (whole tokens, e.g. 1000 or 0.5) in StakedVVV.',
  send: async (chain, amountWei) => ({ hash: await stakeVvv(chain, amountWei!) }),
});
