/**
 * The team routes through a real server on loopback, on a SQLite ledger file and on PostgreSQL: organizations,
 * members (by account and by linked wallet), projects, budgets, reallocation, project keys, audit, alerts and
 * webhooks. Every refusal is an OpenAI-shaped JSON error (403 for a member without the right, 404 for an outsider,
 * 400 for bad input, 403 admin_key_required for an INFERENCE key) and leaves the ledger as it was: the audit log and
 * the tree are compared before and after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import { openTestPostgresLedger, postgresSkipReason } from '../../ledger/testing/harness.ts';
import type { Ledger } from '../../ledger/types.ts';
import { gatewayLogger } from '../app.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';

interface Caller {
  accountId: string;
  admin: string;
  inference: string;
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers of many shapes
  body: any;
}

const startMs = Date.UTC(2025, 0, 2, 12);
const wallet = '0x00000000000000000000000000000000000000b0';

async function sqliteLedger() {
  const directory = await mkdtemp(join(tmpdir(), 'perdiem-teams-routes-'));
  const ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: () => startMs });
  return { ledger, cleanUp: () => rm(directory, { recursive: true, force: true }) };
}

async function postgresLedger() {
  const ledger = await openTestPostgresLedger({ clock: () => startMs });
  return { ledger, cleanUp: async () => {} };
}

/** Skips the PostgreSQL run while its teams adapter is still the placeholder that throws "not built yet". */
async function postgresTeamsSkipReason(): Promise<string | null> {
  const unreachable = await postgresSkipReason();
  if (unreachable !== null) return unreachable;
  const { ledger } = await postgresLedger();
  try {
    await ledger.listOrgs('acct_probe');
    return null;
  } catch (error) {
    return /not built yet/.test((error as Error).message) ? 'the PostgreSQL teams adapter is not built yet' : null;
  } finally {
    await ledger.close();
  }
}

const adapters = [
  { name: 'sqlite', skip: null as string | null, open: sqliteLedger },
  { name: 'postgres', skip: await postgresTeamsSkipReason(), open: postgresLedger },
];

describe.each(adapters)('team routes on $name', ({ skip, open }) => {
  let ledger: Ledger;
  let server: GatewayServer;
  let cleanUp: () => Promise<void>;
  let owner: Caller;
  let member: Caller;
  let outsider: Caller;
  let orgId: string;
  let web: string;
  let batch: string;

  async function caller(): Promise<Caller> {
    const account = await ledger.createAccount();
    await ledger.setDiemAllowance(account.id, epochAt(startMs), 10_000_000_000n);
    const admin = await ledger.createKey({ accountId: account.id, kind: 'ADMIN', name: 'admin' });
    const inference = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'inference' });
    return { accountId: account.id, admin: admin.secret, inference: inference.secret };
  }

  async function call(key: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    expect(response.headers.get('content-type')).toContain('application/json');
    return { status: response.status, body: await response.json() };
  }

  /** What must not change when a request is refused: the audit log and the tree. */
  async function snapshot() {
    const audit = await call(owner.admin, 'GET', `/api/v1/orgs/${orgId}/audit?limit=1000`);
    const tree = await call(owner.admin, 'GET', `/api/v1/orgs/${orgId}`);
    return { audit: audit.body.data, tree: tree.body.data };
  }

  function expectError(answer: Answer, status: number, code: string, param?: string) {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.body.error).toMatchObject({ code, ...(param === undefined ? {} : { param }) });
    expect(typeof answer.body.error.message).toBe('string');
    expect(typeof answer.body.error.type).toBe('string');
  }

  beforeAll(async () => {
    if (skip) return;
    ({ ledger, cleanUp } = await open());
    server = await startGatewayServer({
      ledger,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      clock: () => startMs,
      logger: gatewayLogger('silent'),
    });
    owner = await caller();
    member = await caller();
    outsider = await caller();
    await ledger.linkWallet(member.accountId, wallet);
  });
  afterAll(async () => {
    await server?.close();
    await ledger?.close();
    await cleanUp?.();
  });

  it.skipIf(skip)('creates an organization with an ADMIN key only, and refuses a bad body with 400', async () => {
    expectError(await call(owner.inference, 'POST', '/api/v1/orgs', { name: 'Acme' }), 403, 'admin_key_required');
    expectError(await call(owner.admin, 'POST', '/api/v1/orgs', { name: '' }), 400, 'invalid_value', 'name');
    expectError(
      await call(owner.admin, 'POST', '/api/v1/orgs', { name: 'Acme', color: 'red' }),
      400,
      'unknown_parameter',
    );
    expectError(await call(owner.admin, 'POST', '/api/v1/orgs', '{"name":'), 400, 'invalid_json');
    expect((await call(owner.admin, 'GET', '/api/v1/orgs')).body.data).toEqual([]);
    const created = await call(owner.admin, 'POST', '/api/v1/orgs', { name: 'Acme' });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ object: 'organization', name: 'Acme' });
    orgId = created.body.data.id;
    const listed = await call(owner.inference, 'GET', '/api/v1/orgs');
    expect(listed.body.data.map((org: { id: string }) => org.id)).toEqual([orgId]);
    expect((await call(outsider.admin, 'GET', '/api/v1/orgs')).body.data).toEqual([]);
  });

  it.skipIf(skip)('adds a member by a linked wallet; an unknown wallet is 404 and both fields 400', async () => {
    const before = await snapshot();
    expectError(
      await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/members`, { wallet: `0x${'c'.repeat(40)}` }),
      404,
      'wallet_not_linked',
      'wallet',
    );
    expectError(
      await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/members`, { wallet, accountId: member.accountId }),
      400,
      'invalid_value',
    );
    expectError(
      await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/members`, { wallet, role: 'KING' }),
      400,
      'invalid_value',
      'role',
    );
    expectError(
      await call(outsider.admin, 'POST', `/api/v1/orgs/${orgId}/members`, { wallet }),
      404,
      'organization_not_found',
    );
    expect(await snapshot()).toEqual(before);
    const added = await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/members`, {
      wallet: wallet.toUpperCase().replace('0X', '0x'),
    });
    expect(added.status).toBe(201);
    expect(added.body.data).toMatchObject({ accountId: member.accountId, role: 'MEMBER' });
    const members = await call(member.inference, 'GET', `/api/v1/orgs/${orgId}/members`);
    expect(members.body.data.map((m: { role: string }) => m.role).sort()).toEqual(['MEMBER', 'OWNER']);
  });

  it.skipIf(skip)(
    'creates projects and sets budgets in USD decimals; bad amounts are 400 and change nothing',
    async () => {
      web = (await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/projects`, { name: 'web' })).body.data.id;
      batch = (await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/projects`, { name: 'batch' })).body.data.id;
      const set = await call(owner.admin, 'PUT', '/api/v1/budgets', {
        scopeId: web,
        currency: 'USD',
        period: 'EPOCH',
        amount: '2.5',
        alertThresholds: [50, 90],
      });
      expect(set.status).toBe(200);
      expect(set.body.data).toMatchObject({ scope: 'PROJECT', scopeId: web, amount: '2.5', alertThresholds: [50, 90] });
      await call(owner.admin, 'PUT', '/api/v1/budgets', {
        scopeId: orgId,
        currency: 'TOTAL',
        period: 'MONTH',
        amount: 100,
      });
      const before = await snapshot();
      const bad = [
        [{ amount: '-1' }, 'amount'],
        [{ amount: '1.0000000001' }, 'amount'],
        [{ currency: 'EUR' }, 'currency'],
        [{ period: 'LIFETIME' }, 'period'],
        [{ alertThresholds: [0] }, 'alertThresholds[0]'],
      ] as const;
      for (const [change, param] of bad) {
        const body = { scopeId: web, currency: 'USD', period: 'EPOCH', amount: '3', ...change };
        expectError(await call(owner.admin, 'PUT', '/api/v1/budgets', body), 400, 'invalid_value', param);
      }
      expect(await snapshot()).toEqual(before);
      const tree = before.tree;
      expect(tree.budgets).toMatchObject([
        { scope: 'ORGANIZATION', currency: 'TOTAL', period: 'MONTH', amount: '100', spent: '0' },
      ]);
      const webNode = tree.projects.find((p: { id: string }) => p.id === web);
      expect(webNode.budgets).toMatchObject([
        { currency: 'USD', period: 'EPOCH', amount: '2.5', spent: '0', remaining: '2.5' },
      ]);
    },
  );

  it.skipIf(skip)(
    'refuses a member raising a budget (403) and an outsider reading the tree (404), changing nothing',
    async () => {
      const before = await snapshot();
      const raise = { scopeId: web, currency: 'USD', period: 'EPOCH', amount: '50' };
      expectError(await call(member.admin, 'PUT', '/api/v1/budgets', raise), 403, 'forbidden');
      expectError(await call(member.inference, 'PUT', '/api/v1/budgets', raise), 403, 'admin_key_required');
      // An outsider learns nothing: the project is not found, as any unknown one.
      expectError(await call(outsider.admin, 'PUT', '/api/v1/budgets', raise), 404, 'project_not_found');
      expectError(
        await call(outsider.admin, 'PUT', '/api/v1/budgets', { ...raise, scopeId: orgId }),
        404,
        'organization_not_found',
      );
      const move = { fromProjectId: web, toProjectId: batch, currency: 'USD', period: 'EPOCH', amount: '1' };
      expectError(await call(member.admin, 'POST', `/api/v1/orgs/${orgId}/reallocations`, move), 403, 'forbidden');
      for (const path of ['', '/audit', '/alerts', '/members', '/projects', '/webhooks', '/wallets']) {
        expectError(await call(outsider.admin, 'GET', `/api/v1/orgs/${orgId}${path}`), 404, 'organization_not_found');
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it.skipIf(skip)(
    'moves unused budget between projects; more than is left is refused and changes nothing',
    async () => {
      const move = { fromProjectId: web, toProjectId: batch, currency: 'USD', period: 'EPOCH', amount: '1' };
      // The target needs a budget of the same currency and period to grow.
      const path = `/api/v1/orgs/${orgId}/reallocations`;
      expectError(await call(owner.admin, 'POST', path, move), 404, 'budget_not_found');
      const small = { scopeId: batch, currency: 'USD', period: 'EPOCH', amount: '0.25' };
      expect((await call(owner.admin, 'PUT', '/api/v1/budgets', small)).status).toBe(200);
      const moved = await call(owner.admin, 'POST', path, move);
      expect(moved.status, JSON.stringify(moved.body)).toBe(201);
      expect(moved.body.data.from).toMatchObject({ scopeId: web, amount: '1.5' });
      expect(moved.body.data.to).toMatchObject({ scopeId: batch, amount: '1.25' });
      const before = await snapshot();
      const tooMuch = await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/reallocations`, {
        ...move,
        amount: '1.6',
      });
      expectError(tooMuch, 409, 'budget_in_use', 'amount');
      expect(tooMuch.body.error.message).toContain('$1.5 unused');
      expectError(
        await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/reallocations`, { ...move, toProjectId: 'prj_nope' }),
        404,
        'project_not_found',
        'toProjectId',
      );
      expect(await snapshot()).toEqual(before);
    },
  );

  it.skipIf(skip)(
    'makes a project key that spends the organization’s funds; removing its maker stops it at once',
    async () => {
      await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/members`, { accountId: member.accountId, role: 'ADMIN' });
      const made = await call(member.admin, 'POST', `/api/v1/projects/${batch}/keys`, {
        description: 'batch bot',
        limits: [{ currency: 'TOTAL', period: 'EPOCH', amount: '0.5' }],
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      expect(made.body.data).toMatchObject({
        apiKeyType: 'INFERENCE',
        description: 'batch bot',
        projectId: batch,
        memberAccountId: member.accountId,
      });
      expect(made.body.data.apiKey).toMatch(/\S{20,}/);
      const org = (await call(owner.admin, 'GET', `/api/v1/orgs/${orgId}`)).body.data.organization;
      await ledger.setDiemAllowance(org.accountId, epochAt(startMs), 5_000_000_000n);
      const chat = { model: fakeModels.text, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };
      const ok = await call(made.body.data.apiKey, 'POST', '/v1/chat/completions', chat);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      const removed = await call(owner.admin, 'DELETE', `/api/v1/orgs/${orgId}/members/${member.accountId}`);
      expect(removed.body.data).toEqual({ accountId: member.accountId, revokedKeys: 1 });
      expectError(await call(made.body.data.apiKey, 'POST', '/v1/chat/completions', chat), 401, 'api_key_revoked');
      expectError(await call(member.admin, 'GET', `/api/v1/orgs/${orgId}`), 404, 'organization_not_found');
    },
  );

  it.skipIf(skip)('keeps an audit log of every change, paged with afterId and limit', async () => {
    const page = await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/audit`);
    const actions = page.body.data.map((entry: { action: string }) => entry.action);
    expect(actions).toEqual([
      'org.create',
      'member.add',
      'project.create',
      'project.create',
      'budget.set',
      'budget.set',
      'budget.set',
      'budget.reallocate',
      'member.role',
      'project.key',
      'member.remove',
    ]);
    const first = await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/audit?limit=2`);
    expect(first.body).toMatchObject({ hasMore: true, nextAfterId: page.body.data[1].id });
    const rest = await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/audit?afterId=${first.body.nextAfterId}`);
    expect(rest.body.data).toEqual(page.body.data.slice(2));
    expectError(
      await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/audit?limit=0`),
      400,
      'invalid_value',
      'limit',
    );
    expectError(
      await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/audit?limit=abc`),
      400,
      'invalid_type',
      'limit',
    );
  });

  it.skipIf(skip)('adds, lists and removes webhooks (secret shown once); lists alerts', async () => {
    expectError(
      await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/webhooks`, { url: 'ftp://x' }),
      400,
      'invalid_value',
      'url',
    );
    const added = await call(owner.admin, 'POST', `/api/v1/orgs/${orgId}/webhooks`, { url: 'http://127.0.0.1:9/hook' });
    expect(added.status).toBe(201);
    expect(added.body.data.secret).toMatch(/\S{16,}/);
    const listed = await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/webhooks`);
    expect(listed.body.data).toEqual([
      { id: added.body.data.id, orgId, url: 'http://127.0.0.1:9/hook', createdAt: expect.any(String) },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(added.body.data.secret);
    const removed = await call(owner.admin, 'DELETE', `/api/v1/orgs/${orgId}/webhooks/${added.body.data.id}`);
    expect(removed.status).toBe(200);
    expect((await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/webhooks`)).body.data).toEqual([]);
    const alerts = await call(owner.inference, 'GET', `/api/v1/orgs/${orgId}/alerts`);
    expect(alerts.status).toBe(200);
    expect(Array.isArray(alerts.body.data)).toBe(true);
  });

  it.skipIf(skip)('documents every team route in /openapi.json', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    for (const path of [
      '/api/v1/orgs',
      '/api/v1/orgs/{org}',
      '/api/v1/orgs/{org}/members',
      '/api/v1/orgs/{org}/members/{account}',
      '/api/v1/orgs/{org}/projects',
      '/api/v1/projects/{project}/admins',
      '/api/v1/projects/{project}/keys',
      '/api/v1/budgets',
      '/api/v1/orgs/{org}/reallocations',
      '/api/v1/orgs/{org}/audit',
      '/api/v1/orgs/{org}/alerts',
      '/api/v1/orgs/{org}/webhooks',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/api/v1/budgets'])).toContain('alertThresholds');
  });
});
