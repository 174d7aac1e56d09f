/** The team routes as the Teams page reads and changes them (amounts are USD decimal strings, as the API sends). */
import { type Address, type PublicClient, parseAbi } from 'viem';
import { diemStakingAbi } from '../../src/chain/generated/contracts.ts';
import { apiJson } from './api.ts';
import type { Contracts } from './config.ts';

export type Currency = 'DIEM' | 'USD' | 'TOTAL';
export type Period = 'EPOCH' | 'MONTH';

export interface OrgView {
  id: string;
  name: string;
  accountId: string;
  createdAt: string;
}

export interface BudgetView {
  scope: 'PROJECT' | 'ORGANIZATION';
  scopeId: string;
  orgId: string;
  currency: Currency;
  period: Period;
  amount: string;
  alertThresholds: number[];
  periodKey?: string;
  spent?: string;
  reserved?: string;
  remaining?: string;
}

export interface SpendView {
  epochKey: string;
  monthKey: string;
  epoch: { DIEM: string; USD: string };
  month: { DIEM: string; USD: string };
}

export interface ProjectNode {
  id: string;
  name: string;
  adminAccountIds: string[];
  budgets: BudgetView[];
  spend: SpendView;
  keyIds: string[];
}

export interface TreeView {
  organization: OrgView;
  members: { accountId: string; role: string }[];
  budgets: BudgetView[];
  spend: SpendView;
  projects: ProjectNode[];
}

export interface AlertView {
  id: string;
  scope: string;
  scopeId: string;
  currency: Currency;
  period: Period;
  periodKey: string;
  thresholdPercent: number;
  amount: string;
  spent: string;
  createdAt: string;
  deliveries: {
    webhookId: string;
    state: 'delivered' | 'pending' | 'failed';
    attempts: number;
    lastError: string | null;
  }[];
}

const org = (orgId: string, rest = '') => `/api/v1/orgs/${encodeURIComponent(orgId)}${rest}`;

export async function listOrgs(bearer: string): Promise<OrgView[]> {
  return (await apiJson<{ data: OrgView[] }>('/api/v1/orgs', { bearer })).data;
}

export async function createOrg(bearer: string, name: string): Promise<OrgView> {
  return (await apiJson<{ data: OrgView }>('/api/v1/orgs', { bearer, json: { name } })).data;
}

export async function orgTree(bearer: string, orgId: string): Promise<TreeView> {
  return (await apiJson<{ data: TreeView }>(org(orgId), { bearer })).data;
}

export async function createProject(bearer: string, orgId: string, name: string): Promise<void> {
  await apiJson(org(orgId, '/projects'), { bearer, json: { name } });
}

export async function setBudget(
  bearer: string,
  budget: { scopeId: string; currency: Currency; period: Period; amount: string | null },
): Promise<void> {
  await apiJson('/api/v1/budgets', { bearer, method: 'PUT', json: budget });
}

export async function reallocate(
  bearer: string,
  orgId: string,
  move: { fromProjectId: string; toProjectId: string; currency: Currency; period: Period; amount: string },
): Promise<void> {
  await apiJson(org(orgId, '/reallocations'), { bearer, json: move });
}

export async function listAlerts(bearer: string, orgId: string): Promise<AlertView[]> {
  return (await apiJson<{ data: AlertView[] }>(org(orgId, '/alerts'), { bearer })).data;
}

export async function orgWallets(bearer: string, orgId: string): Promise<Address[]> {
  const wallets = (await apiJson<{ data: { address: Address }[] }>(org(orgId, '/wallets'), { bearer })).data;
  return wallets.map((wallet) => wallet.address);
}

/**
 * DiemStaking's allocation views, by signature: the page then also reads a deployment that predates them, and says so
 * rather than failing.
 */
const allocationAbi = parseAbi([
  'function membersOf(address delegator) view returns (address[])',
  'function allocationOf(address delegator, address member) view returns (uint256 currentWei, uint256 nextWei)',
  'function allocatedOutOf(address account, uint256 epoch) view returns (uint256)',
  'function allocatedInOf(address account, uint256 epoch) view returns (uint256)',
]);

export interface Allocations {
  /** What the wallet allocates to others, and what others allocate to it, this epoch. */
  outWei: bigint;
  inWei: bigint;
  /** The members it allocates to from the next epoch on, with this epoch's and the next epoch's amounts. */
  members: { address: Address; currentWei: bigint; nextWei: bigint }[];
}

export interface WalletAllowance {
  address: Address;
  allowanceWei: bigint;
  nextEpochAllowanceWei: bigint;
  /** null: the deployed DiemStaking has no allocation views. */
  allocations: Allocations | null;
}

async function readAllocations(client: PublicClient, staking: Address, wallet: Address, epoch: bigint) {
  const contract = { address: staking, abi: allocationAbi } as const;
  try {
    const [outWei, inWei, members] = await Promise.all([
      client.readContract({ ...contract, functionName: 'allocatedOutOf', args: [wallet, epoch] }),
      client.readContract({ ...contract, functionName: 'allocatedInOf', args: [wallet, epoch] }),
      client.readContract({ ...contract, functionName: 'membersOf', args: [wallet] }),
    ]);
    const amounts = await Promise.all(
      members.map((member) =>
        client.readContract({ ...contract, functionName: 'allocationOf', args: [wallet, member] }),
      ),
    );
    return {
      outWei,
      inWei,
      members: members.map((address, i) => ({ address, currentWei: amounts[i]![0], nextWei: amounts[i]![1] })),
    };
  } catch {
    return null;
  }
}

/**
 * Each wallet's DIEM allowance on chain this epoch and the next (what funds the organization's account), and what it
 * allocates to member wallets and receives from treasuries.
 */
export async function readWalletAllowances(
  client: PublicClient,
  contracts: Contracts,
  addresses: readonly Address[],
): Promise<WalletAllowance[]> {
  const staking = { address: contracts.diemStaking, abi: diemStakingAbi } as const;
  const epoch = await client.readContract({ ...staking, functionName: 'currentEpoch' });
  return Promise.all(
    addresses.map(async (address) => {
      const [allowanceWei, nextEpochAllowanceWei, allocations] = await Promise.all([
        client.readContract({ ...staking, functionName: 'allowanceOf', args: [address, epoch] }),
        client.readContract({ ...staking, functionName: 'nextEpochAllowanceOf', args: [address] }),
        readAllocations(client, contracts.diemStaking, address, epoch),
      ]);
      return { address, allowanceWei, nextEpochAllowanceWei, allocations };
    }),
  );
}
