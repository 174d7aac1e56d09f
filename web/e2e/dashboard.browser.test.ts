/**
 * The dashboard end to end, as a user meets it: `perdiem up` in a real process (it builds and serves web/dist), then
 * headless Debian Chromium drives the page — connect the development wallet, mint and stake DIEM, sign in, create a
 * key, call the API with it through the openai client, find the request on the usage page, open the operator page.
 * Screenshots land in web/screenshots/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StackState } from '../../src/cli/stateFile.ts';
import { type Browser, launchChromium } from './browser.ts';
import { type FrontServer, startFrontServer } from './frontServer.ts';
import { runDashboardScenario, runInjectedWalletScenario } from './scenario.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const home = mkdtempSync(path.join(tmpdir(), 'perdiem-dashboard-'));

function startUp(): Promise<{ child: ChildProcess; state: StackState }> {
  const child = spawn(
    process.execPath,
    ['src/cli/main.ts', 'up', '--home', home, '--port', '0', '--chain-port', '0', '--json'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve({ child, state: JSON.parse(line) as StackState });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`perdiem up exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

describe('dashboard in Chromium against perdiem up', () => {
  let up: { child: ChildProcess; state: StackState } | undefined;
  let browser: Browser | undefined;
  let front: FrontServer | undefined;
  let dashboardUrl = '';
  afterAll(async () => {
    await browser?.close();
    await front?.close();
    if (up) await stop(up.child);
    rmSync(home, { recursive: true, force: true });
  });

  it('connects the demo wallet, mints and stakes DIEM, creates a key, uses it and sees the request on the usage page', async () => {
    up = await startUp();
    const { state } = up;
    dashboardUrl = state.gatewayUrl;
    const index = await fetch(`${state.gatewayUrl}/`, { headers: { accept: 'text/html' } });
    if (index.status !== 200) {
      console.warn('perdiem up does not serve the dashboard yet (web/WIRING.md): serving it from a front server');
      front = await startFrontServer(state);
      dashboardUrl = front.url;
    }
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
