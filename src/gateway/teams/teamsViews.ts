/** The JSON shapes of the team routes: ISO times, and money as exact USD decimal strings (as key limits show it). */
import { formatUsd } from '../../core/money.ts';
import type {
  AuditEntry,
  Budget,
  BudgetAlert,
  BudgetUsage,
  DeliveryState,
  Organization,
  OrgMember,
  OrgTree,
  Project,
  ScopeSpend,
  Webhook,
} from '../../ledger/types.ts';
import { alertFields } from '../alerts/webhookDelivery.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function orgView(org: Organization) {
  return {
    id: org.id,
    object: 'organization',
    name: org.name,
    accountId: org.accountId,
    createdAt: iso(org.createdAtMs),
  };
}

export function memberView(member: OrgMember) {
  return { orgId: member.orgId, accountId: member.accountId, role: member.role, addedAt: iso(member.addedAtMs) };
}

export function projectView(project: Project) {
  return {
    id: project.id,
    object: 'project',
    orgId: project.orgId,
    name: project.name,
    adminAccountIds: project.adminAccountIds,
    createdAt: iso(project.createdAtMs),
  };
}

/** A budget, with what was spent, held and is left of it this period when known. */
export function budgetView(budget: Budget | BudgetUsage) {
  const usage =
    'remainingNano' in budget
      ? {
          periodKey: budget.periodKey,
          spent: formatUsd(budget.spentNano),
          reserved: formatUsd(budget.reservedNano),
          remaining: formatUsd(budget.remainingNano),
        }
      : {};
  return {
    scope: budget.scope,
    scopeId: budget.scopeId,
    orgId: budget.orgId,
    currency: budget.currency,
    period: budget.period,
    amount: formatUsd(budget.amountNano),
    alertThresholds: budget.alertThresholds,
    updatedAt: iso(budget.updatedAtMs),
    ...usage,
  };
}

export function spendView(spend: ScopeSpend) {
  return {
    epochKey: spend.epochKey,
    monthKey: spend.monthKey,
    epoch: { DIEM: formatUsd(spend.epochSpentNano.DIEM), USD: formatUsd(spend.epochSpentNano.USD) },
    month: { DIEM: formatUsd(spend.monthSpentNano.DIEM), USD: formatUsd(spend.monthSpentNano.USD) },
  };
}

export function treeView(tree: OrgTree) {
  return {
    organization: orgView(tree.organization),
    members: tree.members.map(memberView),
    budgets: tree.budgets.map(budgetView),
    spend: spendView(tree.spend),
    projects: tree.projects.map((node) => ({
      ...projectView(node.project),
      budgets: node.budgets.map(budgetView),
      spend: spendView(node.spend),
      keyIds: node.keyIds,
    })),
  };
}

/** Before and after as JSON: nano-USD bigints become decimal strings of nano-USD. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, jsonSafe(inner)]));
  }
  return value;
}

export function auditView(entry: AuditEntry) {
  return {
    id: entry.id,
    orgId: entry.orgId,
    actorAccountId: entry.actorAccountId,
    action: entry.action,
    target: entry.target,
    before: jsonSafe(entry.before),
    after: jsonSafe(entry.after),
    at: iso(entry.atMs),
  };
}

/** delivered; pending (a next attempt is due); failed (given up). */
export function deliveryView(delivery: DeliveryState) {
  const state =
    delivery.deliveredAtMs !== null ? 'delivered' : delivery.nextAttemptAtMs !== null ? 'pending' : 'failed';
  return {
    webhookId: delivery.webhookId,
    state,
    attempts: delivery.attempts,
    nextAttemptAt: isoOrNull(delivery.nextAttemptAtMs),
    deliveredAt: isoOrNull(delivery.deliveredAtMs),
    lastError: delivery.lastError,
  };
}

export function alertView(alert: BudgetAlert, deliveries: readonly DeliveryState[]) {
  return { ...alertFields(alert), createdAt: iso(alert.createdAtMs), deliveries: deliveries.map(deliveryView) };
}

export function webhookView(webhook: Webhook) {
  return { id: webhook.id, orgId: webhook.orgId, url: webhook.url, createdAt: iso(webhook.createdAtMs) };
}
