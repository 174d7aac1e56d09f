/** `perdiem withdraw`: pays out the VVV whose sVVV cooldown has ended. */
import { withdrawVvv } from '../chain/actions.ts';
import { txVerb } from './txVerb.ts';

export const withdrawCommand = txVerb({
  summary: 'withdraw VVV after the sVVV cooldown',
  synopsis: 'perdiem withdraw',
  about: 'Withdraws all cooling sVVV as VVV once its cooldown has ended.',
  send: async (chain) => ({ hash: await withdrawVvv(chain) }),
});
