/**
 * The dashboard end to end, as a user meets it: `perdiem up` in a real process (it builds and serves web/dist), then
 * headless Debian Chromium drives the page — connect the development wallet, mint and stake DIEM, sign in, create a
 * key, call the API with it through the openai client, find the request on the usage page, open the operator page.
 * Screenshots land in web/screenshots/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startUpProcess, stopUpProcess, type UpProcess } from '../../src/cli/testing/upProcess.ts';
import { type Browser, launchChromium } from './browser.ts';
import { runDashboardScenario, runInjectedWalletScenario } from './scenario.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-dashboard-'));

describe('dashboard in Chromium against perdiem up', () => {
  let up: UpProcess | undefined;
  let browser: Browser | undefined;
  let dashboardUrl = '';
  afterAll(async () => {
    await browser?.close();
    if (up) await stopUpProcess(up);
    rmSync(home, { recursive: true, force: true });
  });

  it('connects the demo wallet, mints and stakes DIEM, creates a key, uses it and sees the request on the usage page', async () => {
    up = await startUpProcess(home);
    const { state } = up;
    // perdiem up builds the dashboard and serves it from the gateway, at the same origin as the API.
    dashboardUrl = state.gatewayUrl;
    const served = await fetch(`${dashboardUrl}/`, { headers: { accept: 'text/html' } });
    expect(await served.text()).toContain('<div id="root">');
    browser = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const started = Date.now();
    await runDashboardScenario({
      page,
      dashboardUrl,
      openaiBaseUrl: `${state.gatewayUrl}/v1`,
      operatorToken: state.operatorToken,
      log: (line) => console.log(`dashboard e2e ${((Date.now() - started) / 1000).toFixed(1)}s: ${line}`),
    });
  }, 180_000);

  it('connects a browser wallet (EIP-1193), refuses sign-in without a stake, stakes VVV and signs in', async () => {
    if (!up || !browser) throw new Error('the first test did not start the stack');
    const { state } = up;
    const page = await browser.context.newPage();
    const started = Date.now();
    await runInjectedWalletScenario({
      page,
      dashboardUrl,
      openaiBaseUrl: `${state.gatewayUrl}/v1`,
      operatorToken: state.operatorToken,
      rpcUrl: state.rpcUrl,
      log: (line) => console.log(`dashboard e2e ${((Date.now() - started) / 1000).toFixed(1)}s: ${line}`),
    });
  }, 120_000);
});
