/** `perdiem unstake-diem AMOUNT`: starts the DIEM cooldown; `perdiem withdraw-diem` pays out after it. */
import { initiateDiemUnstake } from '../chain/actions.ts';
import { txVerb } from './txVerb.ts';

export const unstakeDiemCommand = txVerb({
  summary: 'start unstaking DIEM (cooldown, then `withdraw-diem`)',
  synopsis: 'perdiem unstake-diem AMOUNT',
  amount: 'DIEM amount',
  about:
    "Moves AMOUNT staked DIEM into the cooldown (at least one epoch; a new unstake restarts it). Today's allowance\nkeeps the day's highest stake; cooling DIEM counts for nothing from the next epoch.",
  send: async (chain, amountWei) => ({ hash: await initiateDiemUnstake(chain, amountWei!) }),
});
