/** Team rows as both adapters read them, and the tree they assemble from them (pure: no storage here). */
import { epochAt, monthAt } from '../../core/epoch.ts';
import { timeOrderedHex } from '../../core/ids.ts';
import { periodKeyOf } from '../metering/meteringRules.ts';
import type { Row } from '../rows.ts';
import type { SpendCurrency } from '../vocabulary.ts';
import { type ClassSpend, noSpend, orgIdPrefix, projectIdPrefix, spendFor } from './teamRules.ts';
import type {
  AuditAction,
  AuditEntry,
  Budget,
  BudgetUsage,
  Organization,
  OrgMember,
  OrgRole,
  OrgTree,
  Project,
  ScopeSpend,
} from './teamsLedger.ts';

export const newOrgId = (nowMs: number): string => `${orgIdPrefix}${timeOrderedHex(nowMs)}`;
export const newProjectId = (nowMs: number): string => `${projectIdPrefix}${timeOrderedHex(nowMs)}`;

/** The period keys of now: what the tree's usage and a reallocation's bound read. */
export interface PeriodKeys {
  epochKey: string;
  monthKey: string;
}

export function periodKeysAt(nowMs: number, epochSeconds: number): PeriodKeys {
  const epoch = epochAt(nowMs, epochSeconds);
  const month = monthAt(nowMs);
  return { epochKey: periodKeyOf('EPOCH', epoch, month), monthKey: periodKeyOf('MONTH', epoch, month) };
}

export function toOrg(row: Row): Organization {
  return {
    id: row.id as string,
    name: row.name as string,
    accountId: row.account_id as string,
    createdAtMs: Number(row.created_at_ms),
  };
}

export function toMember(row: Row): OrgMember {
  return {
    orgId: row.org_id as string,
    accountId: row.account_id as string,
    role: row.role as OrgRole,
    addedAtMs: Number(row.added_at_ms),
  };
}

export function toProject(row: Row, adminAccountIds: string[]): Project {
  return {
    id: row.id as string,
    orgId: row.org_id as string,
    name: row.name as string,
    adminAccountIds,
    createdAtMs: Number(row.created_at_ms),
  };
}

export function toBudget(row: Row): Budget {
  return {
    scopeId: row.scope_id as string,
    scope: row.scope as Budget['scope'],
    orgId: row.org_id as string,
    currency: row.currency as Budget['currency'],
    period: row.period as Budget['period'],
    amountNano: BigInt(row.amount_nano as bigint),
    alertThresholds: JSON.parse(row.thresholds as string) as number[],
    updatedAtMs: Number(row.updated_at_ms),
  };
}

export function toAuditEntry(row: Row): AuditEntry {
  return {
    id: Number(row.id),
    orgId: row.org_id as string,
    actorAccountId: row.actor_account_id as string,
    action: row.action as AuditAction,
    target: row.target as string,
    before: row.before_json === null ? null : JSON.parse(row.before_json as string),
    after: row.after_json === null ? null : JSON.parse(row.after_json as string),
    atMs: Number(row.at_ms),
  };
}

/** A JSON column of the audit log (null stays SQL NULL); bigints are written as decimal strings. */
export function auditJson(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** budget_spend rows (scope_id, class, period_key, spent_nano, reserved_nano) by scope and period key. */
export class SpendIndex {
  private readonly byScopePeriod = new Map<string, ClassSpend>();

  constructor(rows: Row[]) {
    for (const row of rows) {
      const key = `${row.scope_id as string}|${row.period_key as string}`;
      const spend = this.byScopePeriod.get(key) ?? noSpend();
      spend[row.class as SpendCurrency] = {
        spentNano: BigInt(row.spent_nano as bigint),
        reservedNano: BigInt(row.reserved_nano as bigint),
      };
      this.byScopePeriod.set(key, spend);
    }
  }

  of(scopeId: string, periodKey: string): ClassSpend {
    return this.byScopePeriod.get(`${scopeId}|${periodKey}`) ?? noSpend();
  }

  usage(budget: Budget, keys: PeriodKeys): BudgetUsage {
    const periodKey = budget.period === 'EPOCH' ? keys.epochKey : keys.monthKey;
    const { spentNano, reservedNano } = spendFor(budget.currency, this.of(budget.scopeId, periodKey));
    const left = budget.amountNano - spentNano - reservedNano;
    return { ...budget, periodKey, spentNano, reservedNano, remainingNano: left > 0n ? left : 0n };
  }

  scopeSpend(scopeId: string, keys: PeriodKeys): ScopeSpend {
    const epoch = this.of(scopeId, keys.epochKey);
    const month = this.of(scopeId, keys.monthKey);
    return {
      scopeId,
      epochKey: keys.epochKey,
      monthKey: keys.monthKey,
      epochSpentNano: { DIEM: epoch.DIEM.spentNano, USD: epoch.USD.spentNano },
      monthSpentNano: { DIEM: month.DIEM.spentNano, USD: month.USD.spentNano },
    };
  }
}

/** What an adapter reads for a tree, in one consistent view. */
export interface TreeRows {
  organization: Organization;
  members: OrgMember[];
  projects: Project[];
  budgets: Budget[];
  spend: SpendIndex;
  /** Key ids per project id, oldest first. */
  keyIds: Map<string, string[]>;
}

export function assembleTree(rows: TreeRows, keys: PeriodKeys): OrgTree {
  const budgetsOf = (scopeId: string) =>
    rows.budgets.filter((b) => b.scopeId === scopeId).map((b) => rows.spend.usage(b, keys));
  const orgId = rows.organization.id;
  return {
    organization: rows.organization,
    members: rows.members,
    budgets: budgetsOf(orgId),
    spend: rows.spend.scopeSpend(orgId, keys),
    projects: rows.projects.map((project) => ({
      project,
      budgets: budgetsOf(project.id),
      spend: rows.spend.scopeSpend(project.id, keys),
      keyIds: rows.keyIds.get(project.id) ?? [],
    })),
  };
}

/** Project admins rows (project_id, account_id) grouped by project. */
export function adminsByProject(rows: Row[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const list = map.get(row.project_id as string) ?? [];
    list.push(row.account_id as string);
    map.set(row.project_id as string, list);
  }
  return map;
}

/** Key rows (id, project_id) grouped by project. */
export function keysByProject(rows: Row[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const list = map.get(row.project_id as string) ?? [];
    list.push(row.id as string);
    map.set(row.project_id as string, list);
  }
  return map;
}
