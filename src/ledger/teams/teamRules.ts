/**
 * Pure team rules both adapters share: input validation, who may do what, and the arithmetic of budgets.
 *
 * Permissions (the actor's role in the organization; a project admin is a member listed in project_admins):
 *
 * | what                                             | OWNER | ADMIN                 | MEMBER | project admin (of P) | non-member |
 * |--------------------------------------------------|-------|-----------------------|--------|----------------------|------------|
 * | read: org, members, projects, tree, audit log    | yes   | yes                   | yes    | yes                  | 404        |
 * | create a key in any project of the org           | yes   | yes                   | yes    | yes                  | 404        |
 * | add a member / change a role                     | yes   | MEMBER, ADMIN only    | 403    | 403                  | 404        |
 * | remove a member                                  | yes   | not an OWNER          | 403    | 403                  | 404        |
 * | create projects, set project admins, webhooks    | yes   | yes                   | 403    | 403                  | 404        |
 * | set or remove a budget (org or project)          | yes   | yes                   | 403    | 403                  | 404        |
 * | reallocate budget out of project P               | yes   | yes                   | 403    | yes (out of P only)  | 404        |
 *
 * Codes: 404 `organization_not_found` / `project_not_found` (unknown, or the actor is no member: existence does not
 * leak), 404 `member_not_found`, `account_not_found`, `budget_not_found`; 403 `forbidden` (the role may not), 403
 * `owner_required` (an ADMIN touching an OWNER or granting OWNER); 409 `last_owner` (an organization keeps at least
 * one OWNER), 409 `budget_in_use` (reallocating more than the source leaves unused); 400 `invalid_request`.
 *
 * A budget may be lowered below what its scope already used in the period: it then only stops new spend. Nobody
 * raises a budget except an OWNER or ADMIN through setBudget; a project admin can only give its project's unused
 * budget away (reallocate), never take.
 */
import { ConflictError, NotFoundError, PermissionError } from '../../core/errors.ts';
import type { NanoUsd } from '../../core/money.ts';
import { checkText, invalidInput } from '../inputChecks.ts';
import { limitCurrencies } from '../vocabulary.ts';
import {
  type Budget,
  type BudgetScope,
  budgetPeriods,
  defaultAlertThresholds,
  type OrgRole,
  orgRoles,
  type ReallocateInput,
  type SetBudgetInput,
} from './teamsLedger.ts';

export const teamLimits = {
  nameLengthMax: 100,
  idLengthMax: 128,
  thresholdsPerBudgetMax: 10,
  thresholdPercentMax: 1000,
  /** The largest amount a budget holds: PostgreSQL's bigint. */
  amountNanoMax: 2n ** 63n - 1n,
  auditPageSizeDefault: 100,
  auditPageSizeMax: 1000,
} as const;

export const orgIdPrefix = 'org_';
export const projectIdPrefix = 'prj_';

// ── validation ────────────────────────────────────────────────────────────────────────────────────────────────

export function checkName(name: unknown): string {
  checkText(name as string, teamLimits.nameLengthMax, 'name');
  const trimmed = (name as string).trim();
  if (trimmed.length === 0) throw invalidInput('name must not be blank', 'name');
  return trimmed;
}

export function checkId(id: unknown, param: string): void {
  checkText(id as string, teamLimits.idLengthMax, param);
}

export function checkRole(role: unknown): OrgRole {
  if (!orgRoles.includes(role as OrgRole)) throw invalidInput('role must be OWNER, ADMIN or MEMBER', 'role');
  return role as OrgRole;
}

export function checkThresholds(thresholds: unknown): number[] {
  if (!Array.isArray(thresholds) || thresholds.length > teamLimits.thresholdsPerBudgetMax) {
    throw invalidInput(
      `alertThresholds must be a list of at most ${teamLimits.thresholdsPerBudgetMax}`,
      'alertThresholds',
    );
  }
  thresholds.forEach((value, i) => {
    if (!Number.isSafeInteger(value) || value < 1 || value > teamLimits.thresholdPercentMax) {
      throw invalidInput(
        `alertThresholds must be integers from 1 to ${teamLimits.thresholdPercentMax}`,
        'alertThresholds',
      );
    }
    if (i > 0 && value <= thresholds[i - 1]) throw invalidInput('alertThresholds must ascend', 'alertThresholds');
  });
  return [...thresholds];
}

function checkAmount(amount: unknown, param: string): NanoUsd {
  if (typeof amount !== 'bigint' || amount < 0n || amount > teamLimits.amountNanoMax) {
    throw invalidInput(`${param} must be a nano-USD integer >= 0`, param);
  }
  return amount;
}

function checkCurrencyPeriod(input: { currency: unknown; period: unknown }): void {
  if (!limitCurrencies.includes(input.currency as never)) {
    throw invalidInput('currency must be DIEM, USD or TOTAL', 'currency');
  }
  if (!budgetPeriods.includes(input.period as never)) throw invalidInput('period must be EPOCH or MONTH', 'period');
}

/** The scope a budget's scope id names, by its prefix. */
export function scopeOf(scopeId: unknown): BudgetScope {
  checkId(scopeId, 'scopeId');
  if ((scopeId as string).startsWith(projectIdPrefix)) return 'PROJECT';
  if ((scopeId as string).startsWith(orgIdPrefix)) return 'ORGANIZATION';
  throw invalidInput('scopeId must be a project id (prj_…) or an organization id (org_…)', 'scopeId');
}

export function validateSetBudget(input: SetBudgetInput): BudgetScope {
  const scope = scopeOf(input.scopeId);
  checkCurrencyPeriod(input);
  if (input.amountNano !== null) checkAmount(input.amountNano, 'amountNano');
  if (input.alertThresholds !== undefined) checkThresholds(input.alertThresholds);
  return scope;
}

export function validateReallocate(input: ReallocateInput): void {
  checkId(input.fromProjectId, 'fromProjectId');
  checkId(input.toProjectId, 'toProjectId');
  if (input.fromProjectId === input.toProjectId) throw invalidInput('from and to must differ', 'toProjectId');
  checkCurrencyPeriod(input);
  if (checkAmount(input.amountNano, 'amountNano') === 0n) throw invalidInput('amountNano must be > 0', 'amountNano');
}

export function auditPageSize(limit: number | undefined): number {
  if (limit === undefined) return teamLimits.auditPageSizeDefault;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > teamLimits.auditPageSizeMax) {
    throw invalidInput(`limit must be 1 to ${teamLimits.auditPageSizeMax}`, 'limit');
  }
  return limit;
}

// ── permissions ───────────────────────────────────────────────────────────────────────────────────────────────

export function orgNotFound(): NotFoundError {
  return new NotFoundError('organization not found', { code: 'organization_not_found' });
}

export function projectNotFound(param: string | null = null): NotFoundError {
  return new NotFoundError('project not found', { code: 'project_not_found', param });
}

export function budgetNotFound(): NotFoundError {
  return new NotFoundError('budget not found', { code: 'budget_not_found' });
}

function forbidden(what: string): PermissionError {
  return new PermissionError(`your role in this organization may not ${what}`, { code: 'forbidden' });
}

function ownerRequired(): PermissionError {
  return new PermissionError('only an OWNER may grant or change the OWNER role', { code: 'owner_required' });
}

function lastOwner(): ConflictError {
  return new ConflictError('an organization keeps at least one OWNER', { code: 'last_owner' });
}

/** The actor's role; 404 for a non-member (and for an organization that does not exist). */
export function requireMember(role: OrgRole | null): OrgRole {
  if (role === null) throw orgNotFound();
  return role;
}

/** OWNER or ADMIN: projects, project admins, budgets, webhooks. */
export function requireManager(role: OrgRole | null, what: string): OrgRole {
  if (requireMember(role) === 'MEMBER') throw forbidden(what);
  return role as OrgRole;
}

/** Whether a setMember adds, changes or leaves the member alone; throws when the actor may not. */
export function decideSetMember(
  actorRole: OrgRole | null,
  current: OrgRole | null,
  next: OrgRole,
  owners: number,
): 'member.add' | 'member.role' | null {
  const actor = requireManager(actorRole, 'manage members');
  if (actor === 'ADMIN' && (next === 'OWNER' || current === 'OWNER')) throw ownerRequired();
  if (current === 'OWNER' && next !== 'OWNER' && owners <= 1) throw lastOwner();
  if (current === null) return 'member.add';
  return current === next ? null : 'member.role';
}

export function checkRemoveMember(actorRole: OrgRole | null, current: OrgRole | null, owners: number): void {
  const actor = requireManager(actorRole, 'remove members');
  if (current === null) throw new NotFoundError('not a member of this organization', { code: 'member_not_found' });
  if (actor === 'ADMIN' && current === 'OWNER') throw ownerRequired();
  if (current === 'OWNER' && owners <= 1) throw lastOwner();
}

/** OWNER, ADMIN, or an admin of the project the budget leaves. */
export function checkReallocate(actorRole: OrgRole | null, adminOfFrom: boolean): void {
  const actor = requireMember(actorRole);
  if (actor === 'MEMBER' && !adminOfFrom) throw forbidden('move budget out of a project it does not administer');
}

// ── budgets ───────────────────────────────────────────────────────────────────────────────────────────────────

/** What a scope spent and holds in one period, per spend class. */
export interface ClassSpend {
  DIEM: { spentNano: NanoUsd; reservedNano: NanoUsd };
  USD: { spentNano: NanoUsd; reservedNano: NanoUsd };
}

export const noSpend = (): ClassSpend => ({
  DIEM: { spentNano: 0n, reservedNano: 0n },
  USD: { spentNano: 0n, reservedNano: 0n },
});

/** The spend a budget of `currency` reads: its class, or both for TOTAL. */
export function spendFor(
  currency: Budget['currency'],
  spend: ClassSpend,
): { spentNano: NanoUsd; reservedNano: NanoUsd } {
  if (currency !== 'TOTAL') return spend[currency];
  return {
    spentNano: spend.DIEM.spentNano + spend.USD.spentNano,
    reservedNano: spend.DIEM.reservedNano + spend.USD.reservedNano,
  };
}

/** max(0, amount - spent - reserved). */
export function unusedOf(budget: Budget, spend: ClassSpend): NanoUsd {
  const { spentNano, reservedNano } = spendFor(budget.currency, spend);
  const unused = budget.amountNano - spentNano - reservedNano;
  return unused > 0n ? unused : 0n;
}

/** The budget set by `input` over `current` (thresholds kept when not given, else the defaults). */
export function nextBudget(
  input: SetBudgetInput & { amountNano: NanoUsd },
  scope: BudgetScope,
  orgId: string,
  current: Budget | null,
  nowMs: number,
): Budget {
  return {
    scopeId: input.scopeId,
    scope,
    orgId,
    currency: input.currency,
    period: input.period,
    amountNano: input.amountNano,
    alertThresholds: input.alertThresholds ?? current?.alertThresholds ?? [...defaultAlertThresholds],
    updatedAtMs: nowMs,
  };
}

/** Both budgets after moving `amount` from `from` (which leaves `unused`) to `to`; 409 when it leaves less. */
export function reallocated(
  from: Budget,
  to: Budget,
  amountNano: NanoUsd,
  unused: NanoUsd,
  nowMs: number,
): { from: Budget; to: Budget } {
  if (amountNano > unused) {
    throw new ConflictError(`the source project's budget leaves ${unused} nano-USD unused this period`, {
      code: 'budget_in_use',
      param: 'amountNano',
    });
  }
  if (to.amountNano + amountNano > teamLimits.amountNanoMax) throw invalidInput('amount too large', 'amountNano');
  return {
    from: { ...from, amountNano: from.amountNano - amountNano, updatedAtMs: nowMs },
    to: { ...to, amountNano: to.amountNano + amountNano, updatedAtMs: nowMs },
  };
}
