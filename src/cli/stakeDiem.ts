/** `perdiem stake-diem AMOUNT`: stakes DIEM in DiemStaking for $1 of inference per DIEM per epoch. */
import { stakeDiem } from '../chain/actions.ts';
import { txVerb } from './txVerb.ts';

export const stakeDiemCommand = txVerb({
  summary: 'stake DIEM ($1 of inference per DIEM per day)',
  synopsis: 'perdiem stake-diem AMOUNT',
  amount: 'DIEM amount',
  about: 'Stakes AMOUNT DIEM in DiemStaking. It counts toward the allowance of the current epoch at once.',
  send: async (chain, amountWei) => ({ hash: await stakeDiem(chain, amountWei!) }),
});
