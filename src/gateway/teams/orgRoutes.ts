/**
 * Organizations, their members and projects, the tree with spend against each budget, and the audit log. Reading
 * takes any key of a member's account; a change needs an ADMIN key, as key management does. The actor of every
 * ledger call is the calling key's account; what it may do is the ledger's rule (403 for a member, 404 for anyone
 * else, so an organization's existence does not leak).
 */
import { Hono } from 'hono';
import { InvalidRequestError, NotFoundError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { requireAdminKey } from '../middleware/auth.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { auditPageDefault, auditPageMax } from './limits.ts';
import {
  addMemberSchema,
  auditQuerySchema,
  createOrgSchema,
  createProjectSchema,
  updateMemberSchema,
} from './teamsSchemas.ts';
import { auditView, memberView, orgView, projectView, treeView } from './teamsViews.ts';

/** The account a member body names: its id, or the account that linked the wallet. */
async function memberAccountOf(
  deps: GatewayDeps,
  body: { accountId?: string | undefined; wallet?: string | undefined },
) {
  if ((body.accountId === undefined) === (body.wallet === undefined)) {
    throw new InvalidRequestError('give exactly one of accountId and wallet', {
      code: 'invalid_value',
      param: 'accountId',
    });
  }
  if (body.accountId !== undefined) return body.accountId;
  const account = await deps.ledger.accountByWallet(body.wallet!.toLowerCase());
  if (account === null) {
    throw new NotFoundError(`no account has linked the wallet ${body.wallet}`, {
      code: 'wallet_not_linked',
      param: 'wallet',
    });
  }
  return account.id;
}

function memberRoutes(deps: GatewayDeps, app: Hono<GatewayEnv>): void {
  const admin = requireAdminKey();
  app.get('/orgs/:org/members', async (c) => {
    const members = await deps.ledger.listMembers(c.get('principal').accountId, c.req.param('org'));
    return c.json({ object: 'list', data: members.map(memberView) });
  });

  app.post('/orgs/:org/members', admin, async (c) => {
    const body = parseWith(addMemberSchema, await readJsonBody(c));
    const accountId = await memberAccountOf(deps, body);
    const member = await deps.ledger.setMember(c.get('principal').accountId, c.req.param('org'), {
      accountId,
      role: body.role,
    });
    return c.json({ success: true, data: memberView(member) }, 201);
  });

  app.patch('/orgs/:org/members/:account', admin, async (c) => {
    const body = parseWith(updateMemberSchema, await readJsonBody(c));
    const actor = c.get('principal').accountId;
    const orgId = c.req.param('org');
    const accountId = c.req.param('account');
    const members = await deps.ledger.listMembers(actor, orgId);
    if (!members.some((member) => member.accountId === accountId)) {
      throw new NotFoundError(`${accountId} is not a member of ${orgId}`, { code: 'member_not_found' });
    }
    const member = await deps.ledger.setMember(actor, orgId, { accountId, role: body.role });
    return c.json({ success: true, data: memberView(member) });
  });

  app.delete('/orgs/:org/members/:account', admin, async (c) => {
    const actor = c.get('principal').accountId;
    const orgId = c.req.param('org');
    const accountId = c.req.param('account');
    const org = await deps.ledger.getOrg(actor, orgId);
    const keys = (await deps.ledger.listKeys(org.accountId)).filter((key) => key.memberAccountId === accountId);
    const { revokedKeys } = await deps.ledger.removeMember(actor, orgId, accountId);
    // The ledger revoked them; this gateway stops them now rather than when its cache entry ages out.
    for (const key of keys) deps.keys.forget(key.id);
    return c.json({ success: true, data: { accountId, revokedKeys } });
  });
}

export function orgRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const admin = requireAdminKey();

  app.get('/orgs', async (c) => {
    const orgs = await deps.ledger.listOrgs(c.get('principal').accountId);
    return c.json({ object: 'list', data: orgs.map(orgView) });
  });

  app.post('/orgs', admin, async (c) => {
    const body = parseWith(createOrgSchema, await readJsonBody(c));
    const org = await deps.ledger.createOrg(c.get('principal').accountId, { name: body.name });
    return c.json({ success: true, data: orgView(org) }, 201);
  });

  app.get('/orgs/:org', async (c) => {
    const tree = await deps.ledger.orgTree(c.get('principal').accountId, c.req.param('org'));
    return c.json({ data: treeView(tree) });
  });

  memberRoutes(deps, app);

  app.get('/orgs/:org/projects', async (c) => {
    const projects = await deps.ledger.listProjects(c.get('principal').accountId, c.req.param('org'));
    return c.json({ object: 'list', data: projects.map(projectView) });
  });

  app.post('/orgs/:org/projects', admin, async (c) => {
    const body = parseWith(createProjectSchema, await readJsonBody(c));
    const project = await deps.ledger.createProject(c.get('principal').accountId, c.req.param('org'), body);
    return c.json({ success: true, data: projectView(project) }, 201);
  });

  app.get('/orgs/:org/audit', async (c) => {
    const query = parseWith(auditQuerySchema, c.req.query());
    const limit = Math.min(query.limit ?? auditPageDefault, auditPageMax);
    const entries = await deps.ledger.auditLog(c.get('principal').accountId, c.req.param('org'), {
      ...(query.afterId === undefined ? {} : { afterId: query.afterId }),
      limit,
    });
    const last = entries.at(-1);
    return c.json({
      object: 'list',
      data: entries.map(auditView),
      hasMore: entries.length === limit,
      nextAfterId: last === undefined ? null : last.id,
    });
  });
  return app;
}
