/** Every `perdiem` verb, one file each. */
import { allocateCommand } from './allocate.ts';
import { balanceCommand } from './balance.ts';
import { budgetCommand } from './budget.ts';
import { burnCommand } from './burn.ts';
import { deployCommand } from './deploy.ts';
import { emissionsCommand } from './emissions.ts';
import { keysCommand } from './keys.ts';
import { mintCommand } from './mint.ts';
import { modelsCommand } from './models.ts';
import { orgCommand } from './org.ts';
import { pricesCommand } from './prices.ts';
import { projectCommand } from './project.ts';
import { receiptsCommand } from './receipts.ts';
import { stakeCommand } from './stake.ts';
import { stakeDiemCommand } from './stakeDiem.ts';
import { transferSvvvCommand } from './transferSvvv.ts';
import { unstakeCommand } from './unstake.ts';
import { unstakeDiemCommand } from './unstakeDiem.ts';
import { upCommand } from './up.ts';
import { usageCommand } from './usage.ts';
import { walletsCommand } from './wallets.ts';
import { withdrawCommand } from './withdraw.ts';
import { withdrawDiemCommand } from './withdrawDiem.ts';

export const verbs = {
  up: upCommand,
  deploy: deployCommand,
  emissions: emissionsCommand,
  stake: stakeCommand,
  unstake: unstakeCommand,
  withdraw: withdrawCommand,
  'transfer-svvv': transferSvvvCommand,
  mint: mintCommand,
  burn: burnCommand,
  'stake-diem': stakeDiemCommand,
  'unstake-diem': unstakeDiemCommand,
  'withdraw-diem': withdrawDiemCommand,
  allocate: allocateCommand,
  balance: balanceCommand,
  keys: keysCommand,
  wallets: walletsCommand,
  usage: usageCommand,
  receipts: receiptsCommand,
  models: modelsCommand,
  prices: pricesCommand,
  org: orgCommand,
  project: projectCommand,
  budget: budgetCommand,
} as const;
