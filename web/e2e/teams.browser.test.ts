/**
 * The Teams page in headless Chromium against `perdiem up`: an organization made with the CLI, with two budgeted
 * projects and a project key that spent until its budget refused. The page shows the tree with spend against each
 * budget, a budget edited in place and a reallocation both reach the ledger (read back with `perdiem org show`), the
 * alert list and the treasury wallets render. Screenshots land in web/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureIo } from '../../src/cli/testing/captureIo.ts';
import { startUpProcess, stopUpProcess, type UpProcess } from '../../src/cli/testing/upProcess.ts';
import { type Browser, launchChromium } from './browser.ts';
import { screenshotDir } from './scenario.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-teams-page-'));
const stepTimeoutMs = 30_000;

async function perdiemJson<T>(...argv: string[]): Promise<T> {
  const captured = captureIo(home);
  const code = await main([...argv, '--home', home, '--json'], captured.io);
  assert.equal(code, 0, captured.stderr());
  return JSON.parse(captured.stdout()) as T;
}

interface Tree {
  projects: { id: string; name: string; budgets: { amount: string; spent: string }[] }[];
}

const budgetOf = (tree: Tree, name: string) => tree.projects.find((project) => project.name === name)!.budgets[0]!;

/** The budget row of a project (its only budget: TOTAL per epoch). */
const rowOf = (page: Page, projectId: string) =>
  page.locator(`[data-testid="tree-project"][data-project-id="${projectId}"] [data-testid="budget-row"]`);

async function waitForRowAmount(page: Page, projectId: string, amount: string) {
  await rowOf(page, projectId)
    .getByTestId('budget-amount')
    .filter({ hasText: amount })
    .waitFor({ timeout: stepTimeoutMs });
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

describe('the Teams page in Chromium against perdiem up', () => {
  let up: UpProcess | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    if (up) await stopUpProcess(up);
    rmSync(home, { recursive: true, force: true });
  });

  it('shows the budget tree with spend, edits a budget in place and moves budget between projects', async () => {
    up = await startUpProcess(home);
    const { state } = up;
    const org = await perdiemJson<{ id: string; accountId: string }>('org', 'create', 'Acme');
    const funded = await fetch(`${state.gatewayUrl}/admin/accounts/${org.accountId}/credits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${state.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '1', reference: 'teams-page' }),
    });
    expect(funded.status).toBe(201);
    const web = await perdiemJson<{ id: string }>('project', 'create', 'Acme', 'web');
    const batch = await perdiemJson<{ id: string }>('project', 'create', 'Acme', 'batch');
    await perdiemJson('budget', 'set', 'web', '0.00005', '--currency', 'TOTAL', '--period', 'epoch');
    await perdiemJson('budget', 'set', 'batch', '0.00005', '--currency', 'TOTAL', '--period', 'epoch');
    const key = await perdiemJson<{ apiKey: string }>('project', 'key', 'web');
    const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey: key.apiKey, maxRetries: 0 });
    let refused = 0;
    for (let i = 0; i < 40 && refused === 0; i++) {
      await openai.chat.completions
        .create({ model: state.models[0]!, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
        .catch((error: { status?: number }) => {
          refused = error.status ?? -1;
        });
    }
    expect(refused).toBe(402);
    const spent = budgetOf(await perdiemJson<Tree>('org', 'show', 'Acme'), 'web').spent;
    expect(Number(spent)).toBeGreaterThan(0);

    // A treasury wallet linked to the organization's account (by its owner's ADMIN key and the wallet's signature).
    const treasury = privateKeyToAccount(generatePrivateKey());
    const linkUrl = `${state.gatewayUrl}/api/v1/orgs/${org.id}/wallets/link`;
    const owner = { authorization: `Bearer ${state.demo!.adminKey}` };
    const { token } = ((await (await fetch(linkUrl, { headers: owner })).json()) as { data: { token: string } }).data;
    const signature = await treasury.signMessage({ message: token });
    const linked = await fetch(linkUrl, {
      method: 'POST',
      headers: { ...owner, 'content-type': 'application/json' },
      body: JSON.stringify({ address: treasury.address, signature, token }),
    });
    expect(linked.status).toBe(201);

    browser = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${state.gatewayUrl}/#/teams`);
    await page.getByTestId('connect-dev').click();
    await page.getByTestId('sign-in-gate').click();
    await page.getByTestId('budget-tree').waitFor({ timeout: stepTimeoutMs });
    // The tree: the web project's budget with what its key spent, as a bar.
    await waitForRowAmount(page, web.id, '$0.00005');
    const webRow = rowOf(page, web.id);
    // Shown rounded down to the digits a small amount needs.
    const shown = (await webRow.getByTestId('budget-spent').textContent()) ?? '';
    expect(shown).toMatch(/^\$0\.0000\d+$/);
    expect(Math.abs(Number(shown.slice(1)) - Number(spent))).toBeLessThan(1e-6);
    const barWidth = await webRow.locator('.budget-spent').evaluate((element) => (element as HTMLElement).style.width);
    expect(Number.parseFloat(barWidth)).toBeGreaterThan(50);
    // The treasury wallet with its allowance on chain (none staked) and its allocations.
    const walletRow = page.locator(`[data-testid="treasury-wallet"][data-address="${treasury.address}"]`);
    await walletRow.waitFor({ timeout: stepTimeoutMs });
    expect(await walletRow.locator('td').nth(1).textContent()).toBe('$0.00');
    expect(await walletRow.locator('td').nth(3).textContent()).toMatch(/^out \$0\.00 · in \$0\.00/);
    // The alerts the spend raised (the sweeper of `perdiem up` raises them), with no webhook to deliver to.
    const alertRow = page.getByTestId('alert-row').filter({ hasText: '80%' });
    await alertRow.first().waitFor({ timeout: stepTimeoutMs });
    expect(await alertRow.first().textContent()).toContain('web TOTAL/epoch');
    await shot(page, 'teams-01-tree');

    // Edit the batch budget in place.
    const batchRow = rowOf(page, batch.id);
    await batchRow.getByTestId('budget-edit').click();
    await batchRow.getByTestId('budget-edit-amount').fill('0.0001');
    await batchRow.getByTestId('budget-save').click();
    await waitForRowAmount(page, batch.id, '$0.0001');
    expect(budgetOf(await perdiemJson<Tree>('org', 'show', 'Acme'), 'batch').amount).toBe('0.0001');

    // Move budget from batch to web.
    await page.getByTestId('realloc-from').selectOption(`${batch.id}|TOTAL|EPOCH`);
    await page.getByTestId('realloc-to').selectOption(web.id);
    await page.getByTestId('realloc-amount').fill('0.00003');
    await page.getByTestId('realloc-submit').click();
    await page.getByTestId('realloc-done').waitFor({ timeout: stepTimeoutMs });
    await waitForRowAmount(page, web.id, '$0.00008');
    await waitForRowAmount(page, batch.id, '$0.00007');
    const tree = await perdiemJson<Tree>('org', 'show', 'Acme');
    expect(budgetOf(tree, 'web').amount).toBe('0.00008');
    expect(budgetOf(tree, 'batch').amount).toBe('0.00007');

    // A move of more than is left is refused on the page and changes nothing.
    await page.getByTestId('realloc-amount').fill('5');
    await page.getByTestId('realloc-submit').click();
    await page.locator('.realloc-form [role="alert"]').waitFor({ timeout: stepTimeoutMs });
    expect(budgetOf(await perdiemJson<Tree>('org', 'show', 'Acme'), 'batch').amount).toBe('0.00007');
    await shot(page, 'teams-02-moved');
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
