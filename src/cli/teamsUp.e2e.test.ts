/**
 * The team workflow the way a user meets it, through `perdiem up` in a real process and the `perdiem` verbs:
 * create an organization, fund it, make two projects with budgets and a project key, spend with the official openai
 * client until the project budget refuses (402), move budget with `perdiem budget move`, spend again, SIGKILL
 * `perdiem up` and start it again: the budgets, the spend and the audit log are all still there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { formatUsd, parseUsd } from '../core/money.ts';
import { startUpProcess, stopUpProcess, type UpProcess } from './testing/upProcess.ts';
import { verbRunner } from './testing/verbRunner.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-teams-'));

const perdiem = verbRunner(home);

/** `perdiem … --json`, which must succeed. */
async function perdiemJson<T>(...argv: string[]): Promise<T> {
  const { code, out, err } = await perdiem(...argv, '--json');
  expect(err).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out) as T;
}

interface Budget {
  scopeId: string;
  currency: string;
  period: string;
  amount: string;
  spent: string;
  remaining: string;
}

interface Tree {
  organization: { id: string; accountId: string };
  budgets: Budget[];
  projects: { id: string; name: string; budgets: Budget[]; keyIds: string[] }[];
}

const costOf = (body: unknown) => BigInt((body as { cost: { nanoUsd: string } }).cost.nanoUsd);
const budgetOf = (tree: Tree, name: string) => tree.projects.find((project) => project.name === name)!.budgets[0]!;

/** Chat requests with the key until one is refused; the costs charged and the refusal. */
async function spendUntilRefused(openai: OpenAI, model: string, requestsMax: number) {
  const costs: bigint[] = [];
  let headers: Headers | null = null;
  for (let i = 0; i < requestsMax; i++) {
    try {
      const { data, response } = await openai.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Say hi' }], max_tokens: 4 })
        .withResponse();
      costs.push(costOf(data));
      headers = response.headers;
    } catch (error) {
      return { costs, headers, refusal: error as InstanceType<typeof OpenAI.APIError> };
    }
  }
  return { costs, headers, refusal: null };
}

describe('the team workflow through perdiem up', { timeout: 240_000 }, () => {
  let first: UpProcess | undefined;
  let second: UpProcess | undefined;
  afterAll(async () => {
    if (second) await stopUpProcess(second);
    try {
      if (first?.child.pid) process.kill(-first.child.pid, 'SIGKILL');
    } catch {}
    rmSync(home, { recursive: true, force: true });
  });

  it('enforces a project budget, moves budget between projects, and keeps it all across a SIGKILL', async () => {
    first = await startUpProcess(home);
    const { state } = first;
    const model = state.models[0]!;

    const org = await perdiemJson<{ id: string; accountId: string }>('org', 'create', 'Acme');
    const funded = await fetch(`${state.gatewayUrl}/admin/accounts/${org.accountId}/credits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${state.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '5', reference: 'teams-e2e' }),
    });
    expect(funded.status).toBe(201);
    await perdiemJson('project', 'create', 'Acme', 'web');
    await perdiemJson('project', 'create', 'Acme', 'batch');
    const set = await perdiem('budget', 'set', 'web', '0.00005', '--currency', 'TOTAL', '--period', 'epoch');
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/^project\s+web\s+TOTAL\s+EPOCH\s+\$0\.00005\s+-\s+-\s+-\s+-\s+50,80,100$/m);
    await perdiemJson(
      'budget',
      'set',
      'batch',
      '0.00005',
      '--currency',
      'total',
      '--period',
      'EPOCH',
      '--alerts',
      '50,100',
    );
    const key = await perdiemJson<{ apiKey: string; projectId: string }>('project', 'key', 'web', '--name', 'web bot');

    // Spend until the project budget refuses: it lets through what $0.00005 covers, never more.
    const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey: key.apiKey, maxRetries: 0 });
    const before = await spendUntilRefused(openai, model, 40);
    expect(before.costs.length).toBeGreaterThan(0);
    expect(before.refusal?.status).toBe(402);
    expect(before.refusal?.code).toBe('project_budget_exceeded');
    expect(before.refusal?.headers?.get('x-perdiem-refused-by')).toBe('project');
    // Each answer named the tightest budget and what it left: the project's.
    expect(before.headers?.get('x-perdiem-budget-level')).toBe('project');
    expect(parseUsd(before.headers?.get('x-perdiem-budget-remaining') ?? 'x')).toBeLessThan(parseUsd('0.00005'));
    const spentBefore = before.costs.reduce((sum, cost) => sum + cost, 0n);
    expect(spentBefore).toBeLessThanOrEqual(parseUsd('0.00005'));
    let tree = await perdiemJson<Tree>('org', 'show', 'Acme');
    expect(budgetOf(tree, 'web')).toMatchObject({ amount: '0.00005', spent: formatUsd(spentBefore) });

    // Move budget from batch to web; web spends again.
    const moved = await perdiemJson<{ from: Budget; to: Budget }>(
      'budget',
      'move',
      'batch',
      'web',
      '0.00003',
      '--currency',
      'TOTAL',
      '--period',
      'epoch',
    );
    expect(moved.from).toMatchObject({ scopeId: tree.projects.find((p) => p.name === 'batch')!.id, amount: '0.00002' });
    expect(moved.to).toMatchObject({ scopeId: key.projectId, amount: '0.00008' });
    const after = await spendUntilRefused(openai, model, 40);
    expect(after.costs.length).toBeGreaterThan(0);
    expect(after.refusal?.status).toBe(402);
    expect(after.refusal?.code).toBe('project_budget_exceeded');
    const spent = spentBefore + after.costs.reduce((sum, cost) => sum + cost, 0n);
    expect(spent).toBeLessThanOrEqual(parseUsd('0.00008'));
    tree = await perdiemJson<Tree>('org', 'show', 'Acme');
    const audit = await perdiemJson<{ action: string }[]>('org', 'audit', 'Acme');

    // SIGKILL, then the same `perdiem up` again: everything is where it was.
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first!.child.once('exit', resolve));
    second = await startUpProcess(home);
    const restarted = await perdiemJson<Tree>('org', 'show', 'Acme');
    expect(budgetOf(restarted, 'web')).toMatchObject({ amount: '0.00008', spent: formatUsd(spent) });
    expect(budgetOf(restarted, 'batch')).toMatchObject({ amount: '0.00002', spent: '0' });
    expect(restarted.projects.map((p) => p.keyIds)).toEqual(tree.projects.map((p) => p.keyIds));
    expect(await perdiemJson('org', 'audit', 'Acme')).toEqual(audit);
    expect(audit.map((entry) => entry.action)).toEqual([
      'org.create',
      'project.create',
      'project.create',
      'budget.set',
      'budget.set',
      'project.key',
      'budget.reallocate',
    ]);
    const shown = await perdiem('org', 'show', 'Acme');
    expect(shown.out).toMatch(/^project\s+web\s+TOTAL\s+EPOCH\s+\$0\.00008\s/m);
    const stillRefused = await spendUntilRefused(
      new OpenAI({ baseURL: `${second.state.gatewayUrl}/v1`, apiKey: key.apiKey, maxRetries: 0 }),
      model,
      1,
    );
    expect(stillRefused.refusal?.status).toBe(402);
  });
  it('manages members, project admins and webhooks with the CLI, and lists the alerts the spend raised', async () => {
    if (!second) throw new Error('the first test did not restart the stack');
    const { state } = second;
    const created = await fetch(`${state.gatewayUrl}/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${state.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bob' }),
    });
    const bob = ((await created.json()) as { data: { account: { id: string }; apiKey: string } }).data;

    const badRole = await perdiem('org', 'add-member', 'Acme', bob.account.id, '--role', 'king');
    expect(badRole.code).toBe(2);
    expect(badRole.err).toContain('--role must be OWNER, ADMIN or MEMBER');
    expect(await perdiemJson('org', 'add-member', 'Acme', bob.account.id)).toMatchObject({ role: 'MEMBER' });
    const members = await perdiem('org', 'members', 'Acme');
    expect(members.out).toMatch(new RegExp(`^${bob.account.id}\\s+MEMBER\\s`, 'm'));
    const web = await perdiemJson<{ adminAccountIds: string[] }>('project', 'admin', 'web', bob.account.id);
    expect(web.adminAccountIds).toEqual([bob.account.id]);
    const projects = await perdiem('project', 'list', 'Acme');
    expect(projects.out).toMatch(/^ID\s+NAME\s+ADMINS\s+CREATED \(UTC\)$/m);
    expect(projects.out).toMatch(/\sbatch\s+-\s/);

    // A member raising a budget of a project it does not administer is refused, and nothing changes.
    const raise = await perdiem(
      'budget',
      'set',
      'batch',
      '1',
      '--currency',
      'TOTAL',
      '--period',
      'epoch',
      '--api-key',
      bob.apiKey,
    );
    expect(raise.code).toBe(1);
    expect(raise.err).toMatch(/gateway answered 403 \(forbidden\)/);
    expect(budgetOf(await perdiemJson<Tree>('org', 'show', 'Acme'), 'batch').amount).toBe('0.00002');

    const hook = await perdiemJson<{ id: string; secret: string }>(
      'org',
      'webhook',
      'add',
      'Acme',
      'http://127.0.0.1:9/hook',
    );
    expect(hook.secret.length).toBeGreaterThan(16);
    expect(await perdiemJson('org', 'webhook', 'list', 'Acme')).toMatchObject([
      { id: hook.id, url: 'http://127.0.0.1:9/hook' },
    ]);
    expect(await perdiemJson('org', 'webhook', 'remove', 'Acme', hook.id)).toEqual({ removed: hook.id });
    expect(await perdiemJson('org', 'webhook', 'list', 'Acme')).toEqual([]);

    // The spend of the first test crossed the web budget's 50% and 80% thresholds (a reservation bound stops it short
    // of 100%): one alert each, raised by the sweeper.
    const thresholds = async () =>
      (await perdiemJson<{ thresholdPercent: number; scopeId: string }[]>('org', 'alerts', 'Acme'))
        .map((alert) => alert.thresholdPercent)
        .sort((a, b) => a - b);
    await expect.poll(thresholds, { timeout: 20_000, interval: 250 }).toEqual(expect.arrayContaining([50, 80]));
    expect(new Set(await thresholds()).size).toBe((await thresholds()).length);
    expect((await perdiem('org', 'alerts', 'Acme')).out).toMatch(/^RAISED \(UTC\)\s+SCOPE\s+BUDGET/m);

    expect(await perdiemJson('org', 'remove-member', 'Acme', bob.account.id)).toEqual({
      accountId: bob.account.id,
      revokedKeys: 0,
    });
    const audit = await perdiemJson<{ action: string }[]>('org', 'audit', 'Acme', '--after', '7');
    expect(audit.map((entry) => entry.action)).toEqual([
      'member.add',
      'project.admin',
      'webhook.add',
      'webhook.remove',
      'member.remove',
    ]);
    const listed = await perdiemJson<{ name: string }[]>('org', 'list');
    expect(listed.map((org) => org.name)).toEqual(['Acme']);
  });
});
