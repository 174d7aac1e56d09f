/**
 * What a holder does in the dashboard, step by step, with a screenshot of each page: connect the development wallet,
 * mint DIEM (the balance and the curve marker move), stake it, sign in, create a key, call the API with it through
 * the official openai client, see the request on the usage page, export CSV, open the operator page, and look at
 * the pages at phone width.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';

export const screenshotDir = path.resolve(import.meta.dirname, '..', 'screenshots');

export interface ScenarioInput {
  page: Page;
  /** Where the dashboard is served (the gateway's origin). */
  dashboardUrl: string;
  /** The OpenAI base URL the key is used against. */
  openaiBaseUrl: string;
  operatorToken: string;
  log?: (line: string) => void;
}

const stepTimeoutMs = 30_000;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().textContent()) ?? '';

/** Waits until a test id's text satisfies `check`. */
async function waitForText(page: Page, testId: string, check: (value: string) => boolean, what: string) {
  const deadline = Date.now() + stepTimeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await text(page, testId).catch(() => '');
    if (check(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${what}; ${testId} shows "${last}"`);
}

/** Waits for the last step of an action to be confirmed; fails with the reason shown when it failed. */
async function waitForTx(page: Page, label: string) {
  const step = page.locator('[data-testid="tx-step"]', { hasText: label }).last();
  await step.waitFor({ timeout: stepTimeoutMs });
  const deadline = Date.now() + stepTimeoutMs;
  while (Date.now() < deadline) {
    const state = await step.getAttribute('data-state');
    if (state === 'confirmed') return;
    if (state === 'failed') throw new Error(`${label} failed: ${await step.textContent()}`);
    await page.waitForTimeout(200);
  }
  throw new Error(`${label} was not confirmed in time`);
}

/** Polls `read` until `check` holds. */
async function waitUntil<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + stepTimeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
}

const markerX = async (page: Page) => Number(await page.getByTestId('current-supply').getAttribute('cx'));
const amountOf = (shown: string) => Number(shown.replace(/[^0-9.]/g, ''));

export async function runDashboardScenario(input: ScenarioInput): Promise<void> {
  const { page, dashboardUrl } = input;
  const log = input.log ?? (() => {});
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  log('connect the development wallet');
  await page.goto(`${dashboardUrl}/#/token`);
  await page.getByTestId('connect-dev').waitFor({ timeout: stepTimeoutMs });
  await shot(page, '01-connect');
  await page.getByTestId('connect-dev').click();
  await waitUntil(
    () => text(page, 'wallet-bar'),
    (v) => v.includes('development wallet'),
    'the wallet bar',
  );
  const heldBefore = amountOf(await waitForText(page, 'diem-held', (v) => v.includes('DIEM'), 'DIEM balance'));
  const stakedBefore = amountOf(await text(page, 'diem-staked'));
  const supplyBefore = amountOf(await text(page, 'diem-supply'));
  const markerBefore = await markerX(page);

  log('mint 25 DIEM with a live quote');
  await page.getByTestId('mint-amount').fill('25');
  const cost = await waitForText(page, 'mint-cost', (v) => v.includes('sVVV'), 'the mint quote');
  assert.ok(amountOf(cost) > 25 * 90, `25 DIEM cost ${cost}, more than 25 × 90 sVVV`);
  await shot(page, '02-token-mint-quote');
  await page.getByTestId('mint-submit').click();
  await waitForTx(page, 'Mint DIEM');
  await waitForText(page, 'diem-held', (v) => amountOf(v) === heldBefore + 25, 'DIEM held to grow by 25');
  await waitForText(page, 'diem-supply', (v) => amountOf(v) === supplyBefore + 25, 'the supply to grow by 25');
  await waitUntil(
    () => markerX(page),
    (x) => x > markerBefore,
    'the supply marker to move right',
  );

  log('stake the minted DIEM');
  await page.getByTestId('stake-diem-amount').fill('25');
  await page.getByTestId('stake-diem-submit').click();
  await waitForTx(page, 'Stake DIEM');
  await waitForText(page, 'diem-staked', (v) => amountOf(v) === stakedBefore + 25, 'staked DIEM to grow by 25');

  log('a reverting action shows its decoded reason');
  await page.locator('summary', { hasText: 'Unstake, withdraw or burn DIEM' }).click();
  await page.getByTestId('unstake-diem-amount').fill('1000000');
  await page.getByTestId('unstake-diem-submit').click();
  const failed = page.locator('[data-testid="tx-step"][data-state="failed"]', { hasText: 'Unstake DIEM' });
  await failed.waitFor({ timeout: stepTimeoutMs });
  assert.match((await failed.textContent()) ?? '', /DiemStakingInsufficientStake\(requested 1,000,000\.00, staked/);
  await page.getByTestId('unstake-diem-amount').fill('');
  await shot(page, '03-token');

  log('sign in with Ethereum and create a key');
  await page.goto(`${dashboardUrl}/#/account`);
  await page.getByTestId('sign-in-gate').click();
  await page.getByTestId('signed-in').waitFor({ timeout: stepTimeoutMs });
  const allocation = stakedBefore + 25;
  await waitForText(page, 'diem-allocation', (v) => amountOf(v) === allocation, `a $${allocation} DIEM allocation`);
  await page.getByTestId('key-name').fill('browser test key');
  await page.getByTestId('key-type').selectOption('INFERENCE');
  await page.getByTestId('key-limit').fill('5');
  await page.getByTestId('key-create').click();
  const secret = (await waitForText(page, 'new-key-secret', (v) => v.startsWith('pd_'), 'the new key')).trim();
  await waitUntil(
    () => text(page, 'key-table'),
    (v) => v.includes('browser test key'),
    'the key in the list',
  );
  await shot(page, '04-account');

  log('use the key with the openai client');
  const openai = new OpenAI({ baseURL: input.openaiBaseUrl, apiKey: secret });
  const completion = await openai.chat.completions.create({
    model: 'perdiem-demo',
    messages: [{ role: 'user', content: 'Hello from the browser test' }],
    max_tokens: 8,
  });
  assert.ok((completion.usage?.total_tokens ?? 0) > 0, 'the completion reports its usage');

  log('see the request on the usage page, export CSV');
  await page.goto(`${dashboardUrl}/#/usage`);
  const row = page.locator('[data-testid="usage-table"] tbody tr', { hasText: 'browser test key' });
  await row.first().waitFor({ timeout: stepTimeoutMs });
  assert.match((await row.first().textContent()) ?? '', /perdiem-demo/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  assert.match(csv.split('\n')[0] ?? '', /requestId/);
  assert.match(csv, /perdiem-demo/);
  await shot(page, '05-usage');

  log('operator page');
  await page.goto(`${dashboardUrl}/#/operator`);
  await page.getByTestId('operator-token').fill(input.operatorToken);
  await page.getByTestId('operator-sign-in').click();
  await waitUntil(
    () => text(page, 'models-table').catch(() => ''),
    (v) => v.includes('perdiem-demo'),
    'the models',
  );
  await waitForText(page, 'liability', (v) => v.includes('/ day'), 'the staked DIEM liability');
  // The request made with the new key counts in the whole fleet's usage today.
  await waitForText(page, 'fleet-today', (v) => /^\$0\.0*[1-9]/.test(v), "the fleet's usage today");
  await page.getByTestId('provider').first().waitFor({ timeout: stepTimeoutMs });
  await page.getByLabel('perdiem-demo output price').fill('0.9');
  await page.getByTestId('publish-prices').click();
  await waitUntil(
    () => text(page, 'price-versions'),
    (v) => v.includes('scheduled'),
    'the new price sheet',
  );
  await shot(page, '06-operator');

  log('revoke the key; the API refuses it from then on');
  await page.goto(`${dashboardUrl}/#/account`);
  const keyRow = page.locator('[data-testid="key-table"] tbody tr', { hasText: 'browser test key' });
  page.once('dialog', (dialog) => void dialog.accept());
  await keyRow.getByRole('button', { name: 'Revoke' }).click();
  await waitUntil(
    () => text(page, 'key-table'),
    (v) => !v.includes('browser test key'),
    'the key to leave the list',
  );
  await assert.rejects(
    openai.chat.completions.create({
      model: 'perdiem-demo',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4,
    }),
    (error: { status?: number }) => error.status === 401,
  );

  log('phone width');
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [hash, name] of [
    ['token', '07-token-phone'],
    ['account', '08-account-phone'],
    ['usage', '09-usage-phone'],
  ] as const) {
    await page.goto(`${dashboardUrl}/#/${hash}`);
    await page.reload();
    await page.getByTestId('connect-dev').click();
    await page.getByTestId('wallet-bar').waitFor({ timeout: stepTimeoutMs });
    await page.waitForLoadState('networkidle');
    await shot(page, name);
  }
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
}

/**
 * A minimal EIP-1193 provider standing in for a browser extension: it forwards every request to the local chain,
 * whose unlocked development accounts sign `eth_sendTransaction` and `personal_sign` themselves.
 */
function fakeInjectedProvider(rpcUrl: string): void {
  let id = 0;
  const provider = {
    async request({ method, params }: { method: string; params?: unknown[] }) {
      const forwarded = method === 'eth_requestAccounts' ? 'eth_accounts' : method;
      const response = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: forwarded, params: params ?? [] }),
      });
      const body = (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
      return body.result;
    },
    on() {},
    removeListener() {},
  };
  (window as unknown as { ethereum: unknown }).ethereum = provider;
}

/**
 * The browser-wallet path: connect through `window.ethereum` as the chain's first development account (it holds VVV
 * but has no stake), see sign-in refused for want of an sVVV stake, stake VVV (approve, then stake), sign in.
 */
export async function runInjectedWalletScenario(input: ScenarioInput & { rpcUrl: string }): Promise<void> {
  const { page, dashboardUrl } = input;
  const log = input.log ?? (() => {});
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.addInitScript(fakeInjectedProvider, input.rpcUrl);

  log('connect a browser wallet');
  await page.goto(`${dashboardUrl}/#/account`);
  await page.getByTestId('connect-injected').click();
  await waitUntil(
    () => text(page, 'wallet-bar'),
    (v) => v.includes('browser wallet'),
    'the browser wallet',
  );

  log('sign-in is refused without an sVVV stake');
  await page.getByTestId('sign-in-gate').click();
  const refusal = page.getByRole('alert').filter({ hasText: 'no sVVV stake' });
  await refusal.waitFor({ timeout: stepTimeoutMs });
  await shot(page, '10-browser-wallet-refused');

  log('stake VVV from the browser wallet');
  await page.goto(`${dashboardUrl}/#/token`);
  await page.getByTestId('stake-vvv-amount').fill('1000');
  await page.getByTestId('stake-vvv-submit').click();
  await waitForTx(page, 'Approve VVV');
  await waitForTx(page, 'Stake VVV');
  await waitForText(page, 'svvv-unlocked', (v) => amountOf(v) === 1000, '1,000 unlocked sVVV');

  log('sign in and see an empty account');
  await page.goto(`${dashboardUrl}/#/usage`);
  await page.getByTestId('sign-in-gate').click();
  await page.getByTestId('signed-in').waitFor({ timeout: stepTimeoutMs });
  await page.getByText('No requests yet.').first().waitFor({ timeout: stepTimeoutMs });
  await shot(page, '11-usage-empty');
}
