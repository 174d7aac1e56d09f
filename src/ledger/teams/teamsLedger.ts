/**
 * Teams: organizations with members and roles, projects inside them, and budgets per project and per organization,
 * changed at any time and enforced in the same atomic reservation as the balance (see metering/).
 *
 * The budget tree: key → project → organization → funding source. An organization's funding is its own ledger
 * account (`Organization.accountId`): the allowance allocated on chain to the wallets linked to it, its credits and
 * its USD. A key of a project is a key of that account (`ApiKey.projectId`, `ApiKey.memberAccountId`), so every
 * request it makes is paid by the organization and counted against its project's and its organization's budgets.
 *
 * Every call names its actor (an account id); what an actor may do is decided by teamRules.ts, the same for both
 * adapters. A refusal is a PermissionError (403) for a member of the organization and a NotFoundError (404) for
 * anyone else, so that an organization's existence and usage do not leak. Every change is appended to the audit log
 * in the same transaction as the change.
 */
import type { NanoUsd } from '../../core/money.ts';
import type { CreatedKey, CreateKeyInput } from '../accounts/accountsLedger.ts';
import type { LimitCurrency } from '../vocabulary.ts';

export type OrgRole = 'OWNER' | 'ADMIN' | 'MEMBER';
export const orgRoles: readonly OrgRole[] = ['OWNER', 'ADMIN', 'MEMBER'];

/** Budgets run per epoch (the UTC day of the DIEM allowance) or per calendar month (UTC). */
export type BudgetPeriod = 'EPOCH' | 'MONTH';
export const budgetPeriods: readonly BudgetPeriod[] = ['EPOCH', 'MONTH'];

/** Where a budget sits in the tree. */
export type BudgetScope = 'PROJECT' | 'ORGANIZATION';

/** The level of the tree that refused a request, or whose headroom is the tightest. */
export type BudgetLevel = 'key' | 'project' | 'organization' | 'source';

/** Alert thresholds in percent of a budget, when a budget is set without its own. */
export const defaultAlertThresholds: readonly number[] = [50, 80, 100];

export interface Organization {
  id: string;
  name: string;
  /** The ledger account that funds the organization: its wallets, credits and USD. */
  accountId: string;
  createdAtMs: number;
}

export interface OrgMember {
  orgId: string;
  accountId: string;
  role: OrgRole;
  addedAtMs: number;
}

export interface Project {
  id: string;
  orgId: string;
  name: string;
  /** Members (account ids) who administer this project besides the organization's owners and admins. */
  adminAccountIds: string[];
  createdAtMs: number;
}

export interface Budget {
  /** A project id or an organization id. */
  scopeId: string;
  scope: BudgetScope;
  orgId: string;
  /** As a key limit: DIEM covers the DIEM allowance, USD covers credits and USD, TOTAL covers every source. */
  currency: LimitCurrency;
  period: BudgetPeriod;
  amountNano: NanoUsd;
  /** Percentages (1–1000, ascending, distinct) at which an alert is raised once per period. */
  alertThresholds: number[];
  updatedAtMs: number;
}

/** A budget with what its scope spent and holds against it in the current period. */
export interface BudgetUsage extends Budget {
  /** "EPOCH:20090" or "MONTH:2025-01". */
  periodKey: string;
  spentNano: NanoUsd;
  reservedNano: NanoUsd;
  /** max(0, amount - spent - reserved). */
  remainingNano: NanoUsd;
}

/** What a scope spent in the current epoch and month, per spend class, whether or not it has budgets. */
export interface ScopeSpend {
  scopeId: string;
  epochKey: string;
  monthKey: string;
  epochSpentNano: { DIEM: NanoUsd; USD: NanoUsd };
  monthSpentNano: { DIEM: NanoUsd; USD: NanoUsd };
}

/** The whole tree of one organization with spend and budgets in the current periods: what the dashboard shows. */
export interface OrgTree {
  organization: Organization;
  members: OrgMember[];
  budgets: BudgetUsage[];
  spend: ScopeSpend;
  projects: { project: Project; budgets: BudgetUsage[]; spend: ScopeSpend; keyIds: string[] }[];
}

export type AuditAction =
  | 'org.create'
  | 'member.add'
  | 'member.role'
  | 'member.remove'
  | 'project.create'
  | 'project.admin'
  | 'project.key'
  | 'budget.set'
  | 'budget.remove'
  | 'budget.reallocate'
  | 'webhook.add'
  | 'webhook.remove';

/** One append-only audit entry: who changed what, with the state before and after (null where none). */
export interface AuditEntry {
  /** Increasing per ledger. */
  id: number;
  orgId: string;
  actorAccountId: string;
  action: AuditAction;
  /** What changed: "budget:prj_…:USD:EPOCH", "member:acct_…", "project:prj_…". */
  target: string;
  before: unknown;
  after: unknown;
  atMs: number;
}

export interface SetBudgetInput {
  scopeId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  /** null removes the budget. */
  amountNano: NanoUsd | null;
  alertThresholds?: number[];
}

export interface ReallocateInput {
  fromProjectId: string;
  toProjectId: string;
  currency: LimitCurrency;
  period: BudgetPeriod;
  /** At most what the source project's budget leaves unused (amount - spent - reserved) this period. */
  amountNano: NanoUsd;
}

export interface CreateProjectKeyInput extends Omit<CreateKeyInput, 'accountId' | 'kind'> {
  projectId: string;
}

/** Organizations, members, projects, budgets, reallocations and the audit log. */
export interface TeamsLedger {
  /** Creates the organization and its funding account; the actor becomes its OWNER. */
  createOrg(actor: string, input: { name: string }): Promise<Organization>;
  getOrg(actor: string, orgId: string): Promise<Organization>;
  /** The organizations the actor belongs to, oldest first. */
  listOrgs(actor: string): Promise<Organization[]>;
  /** The organization whose funding account this is, or null. */
  orgOfAccount(accountId: string): Promise<Organization | null>;
  /** Adds a member or changes its role. */
  setMember(actor: string, orgId: string, input: { accountId: string; role: OrgRole }): Promise<OrgMember>;
  /** Removes a member and revokes, in the same transaction, every key it made for the organization. */
  removeMember(actor: string, orgId: string, accountId: string): Promise<{ revokedKeys: number }>;
  listMembers(actor: string, orgId: string): Promise<OrgMember[]>;
  createProject(actor: string, orgId: string, input: { name: string }): Promise<Project>;
  listProjects(actor: string, orgId: string): Promise<Project[]>;
  setProjectAdmin(actor: string, projectId: string, input: { accountId: string; admin: boolean }): Promise<Project>;
  /** A key of the organization's account, in the project, made by (and stopped with) the actor. */
  createProjectKey(actor: string, input: CreateProjectKeyInput): Promise<CreatedKey>;
  setBudget(actor: string, input: SetBudgetInput): Promise<Budget | null>;
  /** Moves unused budget from one project to another, atomically; returns both budgets after the move. */
  reallocate(actor: string, input: ReallocateInput): Promise<{ from: Budget; to: Budget }>;
  orgTree(actor: string, orgId: string): Promise<OrgTree>;
  /** The audit log, oldest first, after `afterId` (exclusive). */
  auditLog(actor: string, orgId: string, options?: { afterId?: number; limit?: number }): Promise<AuditEntry[]>;
}
