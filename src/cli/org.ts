/**
 * `perdiem org`: organizations, their members, the budget tree with spend, the audit log, alerts and webhooks.
 * Reading takes any key of a member's account; changes need an ADMIN key (by default the one of `perdiem up`).
 */
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { type Gateway, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText, keyValues, table } from './output.ts';
import { listOrgs, type OrgView, resolveOrg, type TreeView, treeText } from './teamViews.ts';

interface MemberView {
  accountId: string;
  role: string;
  addedAt: string;
}

interface AuditView {
  id: number;
  actorAccountId: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  at: string;
}

interface AlertView {
  id: string;
  scope: string;
  scopeId: string;
  currency: string;
  period: string;
  periodKey: string;
  thresholdPercent: number;
  amount: string;
  spent: string;
  createdAt: string;
  deliveries: { webhookId: string; state: string; attempts: number; lastError: string | null }[];
}

interface WebhookView {
  id: string;
  url: string;
  createdAt: string;
  secret?: string;
}

const roles = ['OWNER', 'ADMIN', 'MEMBER'];
const orgPath = (orgId: string, rest = '') => `/api/v1/orgs/${encodeURIComponent(orgId)}${rest}`;
const data = <T>(answer: { body: unknown }) => (answer.body as { data: T }).data;
const brief = (value: unknown) => (value === null || value === undefined ? '-' : JSON.stringify(value));

type Action = (gateway: () => Gateway, admin: () => Gateway, args: string[], values: Values) => Promise<unknown>;
type Render = (result: never) => string;

async function create(admin: Gateway, name: string): Promise<OrgView> {
  return data(await admin.request('POST', '/api/v1/orgs', { body: { name } }));
}

async function show(gateway: Gateway, org: string): Promise<TreeView> {
  return data(await gateway.request('GET', orgPath(await resolveOrg(gateway, org))));
}

async function addMember(admin: Gateway, org: string, who: string, values: Values): Promise<MemberView> {
  const role = (stringOption(values, 'role') ?? 'MEMBER').toUpperCase();
  if (!roles.includes(role)) throw new UsageError(`--role must be OWNER, ADMIN or MEMBER: ${role}`);
  const member = /^0x[0-9a-fA-F]{40}$/.test(who) ? { wallet: who } : { accountId: who };
  const path = orgPath(await resolveOrg(admin, org), '/members');
  return data(await admin.request('POST', path, { body: { ...member, role } }));
}

async function audit(gateway: Gateway, org: string, values: Values): Promise<AuditView[]> {
  const after = stringOption(values, 'after');
  const limit = stringOption(values, 'limit');
  const query = { afterId: after, limit };
  return data(await gateway.request('GET', orgPath(await resolveOrg(gateway, org), '/audit'), { query }));
}

async function webhook(gateway: () => Gateway, admin: () => Gateway, args: string[]): Promise<unknown> {
  const [action, org, target] = args;
  if (action === 'list' && org !== undefined && target === undefined) {
    return data(await gateway().request('GET', orgPath(await resolveOrg(gateway(), org), '/webhooks')));
  }
  if ((action === 'add' || action === 'remove') && org !== undefined && target !== undefined) {
    const orgId = await resolveOrg(admin(), org);
    if (action === 'add')
      return data(await admin().request('POST', orgPath(orgId, '/webhooks'), { body: { url: target } }));
    await admin().request('DELETE', orgPath(orgId, `/webhooks/${encodeURIComponent(target)}`));
    return { removed: target };
  }
  throw new UsageError('usage: perdiem org webhook add ORG URL | list ORG | remove ORG ID');
}

/** Each action: how many arguments it takes, what it asks the gateway, and how its answer reads. */
const actions: Record<string, { args: number; run: Action; text: Render }> = {
  create: { args: 1, run: (_g, admin, [name]) => create(admin(), name!), text: orgText },
  list: { args: 0, run: (g) => listOrgs(g()), text: orgsText },
  show: { args: 1, run: (g, _a, [org]) => show(g(), org!), text: treeText },
  members: {
    args: 1,
    run: async (g, _a, [org]) => data(await g().request('GET', orgPath(await resolveOrg(g(), org!), '/members'))),
    text: membersText,
  },
  'add-member': { args: 2, run: (_g, a, [org, who], values) => addMember(a(), org!, who!, values), text: memberText },
  'remove-member': {
    args: 2,
    run: async (_g, a, [org, account]) =>
      data(
        await a().request('DELETE', orgPath(await resolveOrg(a(), org!), `/members/${encodeURIComponent(account!)}`)),
      ),
    text: (removed: { accountId: string; revokedKeys: number }) =>
      `removed ${removed.accountId}; ${removed.revokedKeys} of its project key(s) revoked`,
  },
  audit: { args: 1, run: (g, _a, [org], values) => audit(g(), org!, values), text: auditText },
  alerts: {
    args: 1,
    run: async (g, _a, [org]) => data(await g().request('GET', orgPath(await resolveOrg(g(), org!), '/alerts'))),
    text: alertsText,
  },
  webhook: { args: -1, run: (g, a, args) => webhook(g, a, args), text: webhookText },
};

function orgText(org: OrgView): string {
  return keyValues([
    ['organization', org.id],
    ['name', org.name],
    ['funding account', org.accountId],
    ['created', org.createdAt],
  ]);
}

function orgsText(orgs: OrgView[]): string {
  if (orgs.length === 0) return 'no organizations (create one with `perdiem org create NAME`)';
  return table(
    ['ID', 'NAME', 'FUNDING ACCOUNT', 'CREATED (UTC)'],
    orgs.map((org) => [org.id, org.name, org.accountId, org.createdAt.slice(0, 19)]),
  );
}

function memberText(member: MemberView): string {
  return `${member.accountId} is ${member.role} since ${member.addedAt.slice(0, 19)}`;
}

function membersText(members: MemberView[]): string {
  return table(
    ['ACCOUNT', 'ROLE', 'ADDED (UTC)'],
    members.map((member) => [member.accountId, member.role, member.addedAt.slice(0, 19)]),
  );
}

function auditText(entries: AuditView[]): string {
  if (entries.length === 0) return 'no audit entries';
  return table(
    ['ID', 'TIME (UTC)', 'ACTOR', 'ACTION', 'TARGET', 'BEFORE', 'AFTER'],
    entries.map((e) => [
      String(e.id),
      e.at.slice(0, 19),
      e.actorAccountId,
      e.action,
      e.target,
      brief(e.before),
      brief(e.after),
    ]),
    [0],
  );
}

function alertsText(alerts: AlertView[]): string {
  if (alerts.length === 0) return 'no alerts raised';
  const deliveries = (alert: AlertView) =>
    alert.deliveries.map((d) => `${d.webhookId}:${d.state}(${d.attempts})`).join(' ') || 'no webhooks';
  return table(
    ['RAISED (UTC)', 'SCOPE', 'BUDGET', 'PERIOD', 'AT', 'SPENT', 'OF', 'DELIVERIES'],
    alerts.map((a) => [
      a.createdAt.slice(0, 19),
      `${a.scope.toLowerCase()} ${a.scopeId}`,
      `${a.currency}/${a.period}`,
      a.periodKey,
      `${a.thresholdPercent}%`,
      `$${a.spent}`,
      `$${a.amount}`,
      deliveries(a),
    ]),
    [4, 5, 6],
  );
}

function webhookText(result: WebhookView | WebhookView[] | { removed: string }): string {
  if ('removed' in result) return `removed webhook ${result.removed}`;
  if (Array.isArray(result)) {
    if (result.length === 0) return 'no webhooks';
    return table(
      ['ID', 'URL', 'CREATED (UTC)'],
      result.map((w) => [w.id, w.url, w.createdAt.slice(0, 19)]),
    );
  }
  return [
    keyValues([
      ['webhook', result.id],
      ['url', result.url],
      ['secret', result.secret ?? '-'],
    ]),
    '',
    'The signing secret is shown once; deliveries carry an HMAC-SHA256 of the timestamp and body made with it.',
  ].join('\n');
}

export const orgCommand: Command = {
  summary: 'organizations: members, the budget tree with spend, audit log, alerts and webhooks',
  usage: [
    'usage: perdiem org create NAME',
    '       perdiem org list',
    '       perdiem org show ORG               the tree: every budget with spent, reserved and left this period',
    '       perdiem org members ORG',
    '       perdiem org add-member ORG ACCOUNT|WALLET [--role OWNER|ADMIN|MEMBER]',
    '       perdiem org remove-member ORG ACCOUNT   (its project keys stop at once)',
    '       perdiem org audit ORG [--after ID] [--limit N]',
    '       perdiem org alerts ORG',
    '       perdiem org webhook add ORG URL | list ORG | remove ORG ID',
    '',
    'ORG is an organization id or name. A WALLET (0x…) adds the account that linked it. Reading takes any key of a',
    "member's account; create, add-member, remove-member and webhook add/remove need an ADMIN key: by default the",
    'ADMIN key of `perdiem up`, or the one --api-key or PERDIEM_API_KEY gives. Amounts are USD.',
    '',
    '  --role R            OWNER, ADMIN or MEMBER (default MEMBER); an existing member gets the new role',
    '  --after ID          audit entries after this id',
    '  --limit N           at most N audit entries (default 100, at most 1000)',
    gatewayUsage,
  ].join('\n'),
  options: { ...gatewayOptions, role: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } },
  async run(values, positionals, io) {
    const [name, ...args] = positionals;
    const action = name === undefined ? undefined : actions[name];
    if (action === undefined || (action.args >= 0 && args.length !== action.args)) {
      throw new UsageError(name === undefined ? 'missing an action' : `bad arguments: ${positionals.join(' ')}`);
    }
    const gateway = () => openGateway(values, io, 'api-key');
    const admin = () => openGateway(values, io, 'admin-key');
    const result = await action.run(gateway, admin, args, values);
    io.out(values.json === true ? jsonText(result) : action.text(result as never));
    return 0;
  },
};
