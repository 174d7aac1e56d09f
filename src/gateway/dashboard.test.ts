import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { createGateway, type DashboardOptions, gatewayLogger } from './app.ts';
import { fakePriceBook, fakeRegistry } from './testing/fakeRegistry.ts';

const root = mkdtempSync(path.join(tmpdir(), 'perdiem-dashboard-'));
writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>perdiem</title>');
writeFileSync(path.join(root, 'app.js'), 'console.log(1)');
const ledger = openSqliteLedger({ path: path.join(root, 'ledger.sqlite'), clock: Date.now });
const contracts = { vvv: '0x01', stakedVvv: '0x02', diem: '0x03', diemStaking: '0x04' };
const chain = { chainId: 31337, rpcUrl: 'http://127.0.0.1:8545', contracts };
const devWallet = { address: '0xabc', privateKey: '0x01' };

function gateway(dashboard: DashboardOptions) {
  return createGateway({
    ledger,
    registry: fakeRegistry(),
    prices: fakePriceBook,
    logger: gatewayLogger('silent'),
    dashboard,
  });
}

describe('dashboard mount', () => {
  afterAll(() => {
    ledger.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the built files at / and the app for any other page, leaving the API alone', async () => {
    const app = gateway({ root, chain });
    const index = await app.request('/');
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>perdiem</title>');
    expect((await app.request('/app.js')).headers.get('content-type')).toContain('javascript');
    const page = await app.request('/usage', { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<title>perdiem</title>');
    expect((await app.request('/v1/models')).status).toBe(401);
    expect((await app.request('/nothing.js')).status).toBe(404);
  });

  it('hands the page a development wallet on a local chain only', async () => {
    const local = await (await gateway({ root, chain, devWallet }).request('/dashboard/config.json')).json();
    expect(local).toEqual({ chain, devWallet });
    const remote = gateway({ root, chain: { ...chain, chainId: 8453 }, devWallet });
    expect(await (await remote.request('/dashboard/config.json')).json()).toMatchObject({ devWallet: null });
  });
});
