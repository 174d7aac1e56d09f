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
import { main } from './main.ts';
import { captureIo } from './testing/captureIo.ts';
import { startUpProcess, stopUpProcess, type UpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-teams-'));

async function perdiem(...argv: string[]) {
  const captured = captureIo(home);
  const code = await main([...argv, '--home', home], captured.io);
  return { code, out: captured.stdout(), err: captured.stderr() };
}

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
});
