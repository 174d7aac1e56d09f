/**
 * What the team verbs (`org`, `project`, `budget`) share: the gateway's shapes, finding an organization or project
 * by id or name, and the budget table.
 */
import { UsageError } from './command.ts';
import type { Gateway } from './gatewayClient.ts';
import { table } from './output.ts';

export interface OrgView {
  id: string;
  name: string;
  accountId: string;
  createdAt: string;
}

export interface ProjectView {
  id: string;
  orgId: string;
  name: string;
  adminAccountIds: string[];
  createdAt: string;
}

export interface BudgetView {
  scope: 'PROJECT' | 'ORGANIZATION';
  scopeId: string;
  currency: string;
  period: string;
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

export interface TreeView {
  organization: OrgView;
  members: { accountId: string; role: string; addedAt: string }[];
  budgets: BudgetView[];
  spend: SpendView;
  projects: (ProjectView & { budgets: BudgetView[]; spend: SpendView; keyIds: string[] })[];
}

export async function listOrgs(gateway: Gateway): Promise<OrgView[]> {
  return ((await gateway.request('GET', '/api/v1/orgs')).body as { data: OrgView[] }).data;
}

export async function listProjects(gateway: Gateway, orgId: string): Promise<ProjectView[]> {
  const path = `/api/v1/orgs/${encodeURIComponent(orgId)}/projects`;
  return ((await gateway.request('GET', path)).body as { data: ProjectView[] }).data;
}

/** An organization by id or by name among the caller's; an unknown text is passed on as an id (the gateway 404s). */
export async function resolveOrg(gateway: Gateway, text: string): Promise<string> {
  const orgs = await listOrgs(gateway);
  const byId = orgs.find((org) => org.id === text);
  if (byId) return byId.id;
  const named = orgs.filter((org) => org.name === text);
  if (named.length > 1) throw new UsageError(`${named.length} organizations are named ${text}; give its id`);
  return named[0]?.id ?? text;
}

export type Scope =
  | { scope: 'ORGANIZATION'; id: string; orgId: string }
  | { scope: 'PROJECT'; id: string; orgId: string };

/** A project or organization by id or name, among the caller's organizations; an unknown text is a usage error. */
export async function resolveScope(gateway: Gateway, text: string): Promise<Scope> {
  const orgs = await listOrgs(gateway);
  const matches: Scope[] = [];
  for (const org of orgs) {
    if (org.id === text) return { scope: 'ORGANIZATION', id: org.id, orgId: org.id };
    if (org.name === text) matches.push({ scope: 'ORGANIZATION', id: org.id, orgId: org.id });
    for (const project of await listProjects(gateway, org.id)) {
      if (project.id === text) return { scope: 'PROJECT', id: project.id, orgId: org.id };
      if (project.name === text) matches.push({ scope: 'PROJECT', id: project.id, orgId: org.id });
    }
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    throw new UsageError(`${matches.length} projects or organizations are named ${text}; give the id`);
  throw new UsageError(`no project or organization ${text} among your organizations (see \`perdiem org list\`)`);
}

/** "62%": what was spent and reserved, of the amount. */
function usedPercent(budget: BudgetView): string {
  const amount = Number(budget.amount);
  if (budget.spent === undefined || amount === 0) return '-';
  const used = Number(budget.spent) + Number(budget.reserved ?? 0);
  return `${Math.round((used / amount) * 100)}%`;
}

/** One row per budget: where it sits, its amount and what is spent, held and left of it this period. */
export function budgetTable(rows: { level: string; name: string; budget: BudgetView }[]): string {
  return table(
    ['LEVEL', 'NAME', 'CURRENCY', 'PERIOD', 'AMOUNT', 'SPENT', 'RESERVED', 'LEFT', 'USED', 'ALERTS'],
    rows.map(({ level, name, budget }) => [
      level,
      name,
      budget.currency,
      budget.period,
      `$${budget.amount}`,
      budget.spent === undefined ? '-' : `$${budget.spent}`,
      budget.reserved === undefined ? '-' : `$${budget.reserved}`,
      budget.remaining === undefined ? '-' : `$${budget.remaining}`,
      usedPercent(budget),
      budget.alertThresholds.join(','),
    ]),
    [4, 5, 6, 7, 8],
  );
}

/** `perdiem org show`: the organization, its members, every budget with spend, and spend per project. */
export function treeText(tree: TreeView): string {
  const org = tree.organization;
  const budgets = [
    ...tree.budgets.map((budget) => ({ level: 'organization', name: org.name, budget })),
    ...tree.projects.flatMap((project) =>
      project.budgets.map((budget) => ({ level: 'project', name: project.name, budget })),
    ),
  ];
  const spendRow = (level: string, name: string, id: string, spend: SpendView, keys: string) => [
    level,
    name,
    id,
    `$${spend.epoch.DIEM}`,
    `$${spend.epoch.USD}`,
    `$${spend.month.DIEM}`,
    `$${spend.month.USD}`,
    keys,
  ];
  const spendRows = [
    spendRow('organization', org.name, org.id, tree.spend, '-'),
    ...tree.projects.map((p) => spendRow('project', p.name, p.id, p.spend, String(p.keyIds.length))),
  ];
  return [
    `organization ${org.name} (${org.id}), funded by account ${org.accountId}, ${tree.members.length} member(s)`,
    '',
    budgets.length === 0 ? 'no budgets (set one with `perdiem budget set`)' : budgetTable(budgets),
    '',
    `spend this epoch (${tree.spend.epochKey}) and month (${tree.spend.monthKey}):`,
    table(
      ['LEVEL', 'NAME', 'ID', 'EPOCH DIEM', 'EPOCH USD', 'MONTH DIEM', 'MONTH USD', 'KEYS'],
      spendRows,
      [3, 4, 5, 6, 7],
    ),
  ].join('\n');
}
