/**
 * `perdiem project create|list|key|admin`: projects inside an organization, their keys (INFERENCE keys of the
 * organization that spend against the project's and the organization's budgets) and their admins. Changes need an
 * ADMIN key, by default the one of `perdiem up`.
 */
import { type Command, UsageError } from './command.ts';
import type { Values } from './context.ts';
import { type Gateway, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { createBody, limitText } from './keys.ts';
import { jsonText, keyValues, table } from './output.ts';
import { listProjects, type ProjectView, resolveOrg, resolveScope } from './teamViews.ts';

interface ProjectKeyView {
  id: string;
  description: string;
  projectId: string;
  memberAccountId: string | null;
  expiresAt: string | null;
  limits: { currency: string; period: string; amount: string | number }[];
  allowedModels: string[] | null;
  apiKey: string;
}

const data = <T>(answer: { body: unknown }) => (answer.body as { data: T }).data;

async function projectId(gateway: Gateway, text: string): Promise<string> {
  const scope = await resolveScope(gateway, text);
  if (scope.scope !== 'PROJECT') throw new UsageError(`${text} is an organization, not a project`);
  return scope.id;
}

async function create(admin: Gateway, org: string, name: string): Promise<ProjectView> {
  const path = `/api/v1/orgs/${encodeURIComponent(await resolveOrg(admin, org))}/projects`;
  return data(await admin.request('POST', path, { body: { name } }));
}

async function key(admin: Gateway, project: string, values: Values): Promise<ProjectKeyView> {
  const { apiKeyType: _type, ...body } = createBody({ ...values, type: undefined });
  const path = `/api/v1/projects/${encodeURIComponent(await projectId(admin, project))}/keys`;
  return data(await admin.request('POST', path, { body }));
}

async function admin(gateway: Gateway, project: string, account: string, values: Values): Promise<ProjectView> {
  const path = `/api/v1/projects/${encodeURIComponent(await projectId(gateway, project))}/admins`;
  return data(await gateway.request('POST', path, { body: { accountId: account, admin: values.remove !== true } }));
}

function projectText(project: ProjectView): string {
  return keyValues([
    ['project', project.id],
    ['name', project.name],
    ['organization', project.orgId],
    ['admins', project.adminAccountIds.join(', ') || '- (the organization’s owners and admins)'],
  ]);
}

function projectsText(projects: ProjectView[]): string {
  if (projects.length === 0) return 'no projects (create one with `perdiem project create ORG NAME`)';
  return table(
    ['ID', 'NAME', 'ADMINS', 'CREATED (UTC)'],
    projects.map((p) => [p.id, p.name, p.adminAccountIds.join(',') || '-', p.createdAt.slice(0, 19)]),
  );
}

function keyText(created: ProjectKeyView): string {
  return [
    keyValues([
      ['id', created.id],
      ['project', created.projectId],
      ['name', created.description],
      ['expires', created.expiresAt ?? 'never'],
      ['limits', limitText(created.limits)],
      ['models', created.allowedModels?.join(', ') ?? 'all'],
      ['secret', created.apiKey],
    ]),
    '',
    "The secret is shown once; store it now. The key spends the organization's funds within the project's budgets.",
  ].join('\n');
}

export const projectCommand: Command = {
  summary: 'projects of an organization: create, list, make keys, set admins',
  usage: [
    'usage: perdiem project create ORG NAME',
    '       perdiem project list ORG',
    '       perdiem project key PROJECT [--name TEXT] [--limit AMOUNT:CURRENCY[:PERIOD]]… [--expires ISO] [--model ID]…',
    '       perdiem project admin PROJECT ACCOUNT [--remove]',
    '',
    'ORG and PROJECT are ids or names. key makes an INFERENCE key of the organization in the project: every request',
    "it makes must fit its own limits, the project's budgets and the organization's; the secret is shown once.",
    'admin lets a member administer the project (set its budgets, move budget out of it), or stops that (--remove).',
    'Changes need an ADMIN key: by default the ADMIN key of `perdiem up`, or --api-key / PERDIEM_API_KEY.',
    '',
    '  --name TEXT         the key description (default "perdiem cli")',
    '  --limit L           a key limit as in `perdiem keys create`, e.g. 5:USD, 20:DIEM:MONTH (repeatable)',
    '  --expires ISO       key expiry, e.g. 2030-01-01T00:00:00Z',
    '  --model ID          a model the key may use (repeatable or comma-separated; default: all)',
    '  --remove            admin: take the role away',
    gatewayUsage,
  ].join('\n'),
  options: {
    ...gatewayOptions,
    name: { type: 'string' },
    limit: { type: 'string', multiple: true },
    expires: { type: 'string' },
    model: { type: 'string', multiple: true },
    remove: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    const json = values.json === true;
    const gateway = () => openGateway(values, io, 'api-key');
    const adminGateway = () => openGateway(values, io, 'admin-key');
    let out: string;
    if (action === 'create' && rest.length === 2) {
      const project = await create(adminGateway(), rest[0]!, rest[1]!);
      out = json ? jsonText(project) : projectText(project);
    } else if (action === 'list' && rest.length === 1) {
      const projects = await listProjects(gateway(), await resolveOrg(gateway(), rest[0]!));
      out = json ? jsonText(projects) : projectsText(projects);
    } else if (action === 'key' && rest.length === 1) {
      const created = await key(adminGateway(), rest[0]!, values);
      out = json ? jsonText(created) : keyText(created);
    } else if (action === 'admin' && rest.length === 2) {
      const project = await admin(adminGateway(), rest[0]!, rest[1]!, values);
      out = json ? jsonText(project) : projectText(project);
    } else {
      throw new UsageError(
        action === undefined ? 'missing create, list, key or admin' : `bad arguments: ${positionals.join(' ')}`,
      );
    }
    io.out(out);
    return 0;
  },
};
