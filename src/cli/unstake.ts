/** `perdiem unstake AMOUNT`: starts the sVVV cooldown; `perdiem withdraw` pays out after it. */
import { initiateVvvUnstake } from '../chain/actions.ts';
import { txVerb } from './txVerb.ts';

export const unstakeCommand = txVerb({
  summary: 'start unstaking sVVV (cooldown, then `withdraw`)',
  synopsis: 'perdiem unstake AMOUNT',
  amount: 'sVVV amount',
  about:
    'Moves AMOUNT unlocked sVVV into the cooldown (7 days by default; a new unstake restarts it). Cooling sVVV earns\nnothing. `perdiem withdraw` pays the VVV out once the cooldown has ended.',
  send: async (chain, amountWei) => ({ hash: await initiateVvvUnstake(chain, amountWei!) }),
});
