import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { createGateway, type DashboardOptions, gatewayLogger, isLoopback, mountDashboard } from './app.ts';
import { type GatewayServer, startGatewayServer } from './server.ts';
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
  afterAll(async () => {
    // The ledger's checkpoint thread opens the file when it starts: remove the file only once the ledger is closed.
    await ledger.close();
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
    const local = await configFrom(dashboardApp({ root, chain, devWallet }, '127.0.0.1'), '127.0.0.1');
    expect(local).toEqual({ chain, devWallet });
    const remote = dashboardApp({ root, chain: { ...chain, chainId: 8453 }, devWallet }, '127.0.0.1');
    expect(await configFrom(remote, '127.0.0.1')).toMatchObject({ devWallet: null });
  });

  it('hands it only to a loopback peer of a loopback bind', async () => {
    const app = dashboardApp({ root, chain, devWallet }, '127.0.0.1');
    for (const peer of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(await configFrom(app, peer), peer).toMatchObject({ devWallet });
    }
    for (const peer of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', 'fe80::1', null]) {
      expect(await configFrom(app, peer), String(peer)).toEqual({ chain, devWallet: null });
    }
    for (const bind of ['0.0.0.0', '::', '192.168.1.20', null]) {
      expect(await configFrom(dashboardApp({ root, chain, devWallet }, bind), '127.0.0.1'), String(bind)).toEqual({
        chain,
        devWallet: null,
      });
    }
    // In process (no socket, no bind host), as createGateway without a server: never.
    expect(await (await gateway({ root, chain, devWallet }).request('/dashboard/config.json')).json()).toEqual({
      chain,
      devWallet: null,
    });
  });

  it('reads localhost, 127.0.0.0/8 and ::1 as loopback, and nothing else', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.3', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '10.127.0.1', '127.0.0.1.evil', 'localhost.example', '', null]) {
      expect(isLoopback(host), String(host)).toBe(false);
    }
  });

  describe('over a real port', () => {
    const servers: GatewayServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.close()));
    });

    async function served(host: string) {
      const server = await startGatewayServer({
        ledger,
        registry: fakeRegistry(),
        prices: fakePriceBook,
        logger: gatewayLogger('silent'),
        dashboard: { root, chain, devWallet },
        host,
      });
      servers.push(server);
      // Asked through 127.0.0.1 either way: the bind address decides.
      return await (await fetch(`http://127.0.0.1:${server.port}/dashboard/config.json`)).json();
    }

    it('serves the development wallet from a gateway bound to 127.0.0.1', async () => {
      expect(await served('127.0.0.1')).toEqual({ chain, devWallet });
    });

    it('never serves it from a gateway bound to 0.0.0.0, even to a loopback client', async () => {
      expect(await served('0.0.0.0')).toEqual({ chain, devWallet: null });
    });
  });
});

/** A bare app with only the dashboard, as bound to `bindHost`. */
function dashboardApp(dashboard: DashboardOptions, bindHost: string | null): Hono {
  const app = new Hono();
  mountDashboard(app, dashboard, bindHost);
  return app;
}

/** The config as a request from `peer` sees it (the Node adapter's socket, as `c.env.incoming`). */
async function configFrom(app: Hono, peer: string | null): Promise<unknown> {
  const env = peer === null ? {} : { incoming: { socket: { remoteAddress: peer } } };
  return await (await app.request('/dashboard/config.json', {}, env)).json();
}
