/** Every `perdiem` verb, one file each. */
import { burnCommand } from './burn.ts';
import { deployCommand } from './deploy.ts';
import { mintCommand } from './mint.ts';
import { stakeCommand } from './stake.ts';
import { stakeDiemCommand } from './stakeDiem.ts';
import { unstakeCommand } from './unstake.ts';
import { unstakeDiemCommand } from './unstakeDiem.ts';
import { upCommand } from './up.ts';
import { withdrawCommand } from './withdraw.ts';
import { withdrawDiemCommand } from './withdrawDiem.ts';

export const verbs = {
  up: upCommand,
  deploy: deployCommand,
  stake: stakeCommand,
  unstake: unstakeCommand,
  withdraw: withdrawCommand,
  mint: mintCommand,
  burn: burnCommand,
  'stake-diem': stakeDiemCommand,
  'unstake-diem': unstakeDiemCommand,
  'withdraw-diem': withdrawDiemCommand,
} as const;
