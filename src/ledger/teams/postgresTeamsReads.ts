/** The reads and locks the PostgreSQL teams adapter runs inside its transactions (postgresTeams.ts). */
import type { Sql } from '../postgres/pool.ts';
import { adminsByProject, auditJson, toBudget, toOrg, toProject } from './teamRows.ts';
import { budgetNotFound, orgNotFound, projectNotFound, requireMember } from './teamRules.ts';
import type { AuditAction, Budget, Organization, OrgRole, Project } from './teamsLedger.ts';

/**
 * Locks the organization's row: membership, project and project-admin changes of one organization are serialised
 * behind it (so that two owners cannot demote each other at once and leave none). The metering hot path never takes
 * it, so it cannot deadlock with a reservation.
 */
export async function lockOrg(tx: Sql, orgId: string): Promise<Organization | null> {
  const [row] = await tx`SELECT * FROM organizations WHERE id = ${orgId} FOR UPDATE`;
  return row ? toOrg(row) : null;
}

/**
 * Locks the organization's funding account mutex, its CREDITS balance row: the row every reservation of the account
 * locks first (see postgres/functions.ts), so a budget change or a reallocation is serialised with reservations and
 * reads the budget's spend and holds as no reservation can change them.
 */
export async function lockFundingMutex(tx: Sql, org: Organization): Promise<void> {
  await tx`SELECT 1 FROM balances WHERE account_id = ${org.accountId} AND source = 'CREDITS' FOR UPDATE`;
}

export async function roleOf(tx: Sql, orgId: string, accountId: string): Promise<OrgRole | null> {
  const [row] = await tx`SELECT role FROM org_members WHERE org_id = ${orgId} AND account_id = ${accountId}`;
  return (row?.role as OrgRole | undefined) ?? null;
}

export async function ownersOf(tx: Sql, orgId: string): Promise<number> {
  const [row] = await tx`SELECT count(*) AS n FROM org_members WHERE org_id = ${orgId} AND role = 'OWNER'`;
  return Number(row!.n);
}

/** The organization (locked when `lock`) and the actor's role; 404 unless the actor is a member. */
export async function memberOrg(
  tx: Sql,
  actor: string,
  orgId: string,
  lock = false,
): Promise<{ org: Organization; role: OrgRole }> {
  // Locked first, so that the role read is the one that holds until the transaction ends.
  const org = lock ? await lockOrg(tx, orgId) : await readOrg(tx, orgId);
  const role = requireMember(await roleOf(tx, orgId, actor));
  if (!org) throw orgNotFound();
  return { org, role };
}

export async function readOrg(tx: Sql, orgId: string): Promise<Organization | null> {
  const [row] = await tx`SELECT * FROM organizations WHERE id = ${orgId}`;
  return row ? toOrg(row) : null;
}

export async function readProject(tx: Sql, projectId: string): Promise<Project | null> {
  const [row] = await tx`SELECT * FROM projects WHERE id = ${projectId}`;
  if (!row) return null;
  const admins = await tx`SELECT account_id FROM project_admins WHERE project_id = ${projectId} ORDER BY account_id`;
  return toProject(
    row,
    admins.map((r) => r.account_id as string),
  );
}

/** The project, its organization (locked) and the actor's role; 404 `project_not_found` unless a member. */
export async function memberProject(tx: Sql, actor: string, projectId: string, param: string | null = null) {
  const [row] = await tx`SELECT org_id FROM projects WHERE id = ${projectId}`;
  const org = row ? await lockOrg(tx, row.org_id as string) : null;
  const role = org ? await roleOf(tx, org.id, actor) : null;
  const project = role === null ? null : await readProject(tx, projectId);
  if (!org || !project || role === null) throw projectNotFound(param);
  return { project, org, role };
}

export async function readBudget(tx: Sql, scopeId: string, currency: string, period: string): Promise<Budget | null> {
  const [row] = await tx`SELECT * FROM budgets
    WHERE scope_id = ${scopeId} AND currency = ${currency} AND period = ${period}`;
  return row ? toBudget(row) : null;
}

export async function requireBudget(tx: Sql, scopeId: string, currency: string, period: string): Promise<Budget> {
  const budget = await readBudget(tx, scopeId, currency, period);
  if (!budget) throw budgetNotFound();
  return budget;
}

export async function writeBudget(tx: Sql, budget: Budget): Promise<void> {
  await tx`INSERT INTO budgets (scope_id, scope, org_id, currency, period, amount_nano, thresholds, updated_at_ms)
    VALUES (${budget.scopeId}, ${budget.scope}, ${budget.orgId}, ${budget.currency}, ${budget.period},
      ${budget.amountNano}, ${JSON.stringify(budget.alertThresholds)}, ${budget.updatedAtMs})
    ON CONFLICT (scope_id, currency, period) DO UPDATE SET amount_nano = excluded.amount_nano,
      thresholds = excluded.thresholds, updated_at_ms = excluded.updated_at_ms`;
}

export interface AuditWrite {
  orgId: string;
  actor: string;
  action: AuditAction;
  target: string;
  before: unknown;
  after: unknown;
  atMs: number;
}

export async function appendAudit(tx: Sql, entry: AuditWrite): Promise<void> {
  await tx`INSERT INTO team_audit (org_id, actor_account_id, action, target, before_json, after_json, at_ms)
    VALUES (${entry.orgId}, ${entry.actor}, ${entry.action}, ${entry.target}, ${auditJson(entry.before)},
      ${auditJson(entry.after)}, ${entry.atMs})`;
}

export async function listProjectsOf(sql: Sql, orgId: string): Promise<Project[]> {
  const rows = await sql`SELECT * FROM projects WHERE org_id = ${orgId} ORDER BY created_at_ms, id`;
  const admins = adminsByProject(
    await sql`SELECT a.project_id, a.account_id FROM project_admins a JOIN projects p ON p.id = a.project_id
      WHERE p.org_id = ${orgId} ORDER BY a.account_id`,
  );
  return rows.map((row) => toProject(row, admins.get(row.id as string) ?? []));
}
