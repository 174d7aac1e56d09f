/**
 * Stand-in until `perdiem up` mounts the dashboard itself (web/WIRING.md): a front server on its own port that mounts
 * the dashboard with the gateway's own `mountDashboard` and forwards every API path to the running gateway. Remove it
 * once `perdiem up` serves `/`.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { StackState } from '../../src/cli/stateFile.ts';
import { mountDashboard } from '../../src/gateway/app.ts';
import { ensureDashboardBuilt } from '../ensureBuilt.ts';

const gatewayPaths = ['/v1/*', '/api/*', '/admin/*', '/metrics', '/healthz', '/openapi.json'];

export interface FrontServer {
  url: string;
  close(): Promise<void>;
}

export async function startFrontServer(state: StackState): Promise<FrontServer> {
  const root = await ensureDashboardBuilt();
  const app = new Hono();
  for (const route of gatewayPaths) {
    app.all(route, async (c) => {
      const url = new URL(c.req.url);
      const method = c.req.method;
      const body = method === 'GET' || method === 'HEAD' ? undefined : await c.req.arrayBuffer();
      const headers = new Headers(c.req.raw.headers);
      headers.delete('host');
      const response = await fetch(`${state.gatewayUrl}${url.pathname}${url.search}`, { method, headers, body });
      const forwarded = new Headers(response.headers);
      forwarded.delete('content-encoding');
      forwarded.delete('content-length');
      return new Response(response.body, { status: response.status, headers: forwarded });
    });
  }
  mountDashboard(app, {
    root,
    chain: { chainId: state.chainId, rpcUrl: state.rpcUrl, contracts: state.contracts },
    ...(state.demo ? { devWallet: { address: state.demo.address, privateKey: state.demo.privateKey } } : {}),
  });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      }),
    );
    server.once('error', reject);
  });
}
