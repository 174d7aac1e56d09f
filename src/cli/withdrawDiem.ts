/** `perdiem withdraw-diem`: pays out the DIEM whose cooldown has ended. */
import { withdrawDiem } from '../chain/actions.ts';
import { txVerb } from './txVerb.ts';

export const withdrawDiemCommand = txVerb({
  summary: 'withdraw DIEM after its cooldown',
  synopsis: 'perdiem withdraw-diem',
  about: 'Withdraws all cooling DIEM to the wallet once its cooldown has ended.',
  send: async (chain) => ({ hash: await withdrawDiem(chain) }),
});
