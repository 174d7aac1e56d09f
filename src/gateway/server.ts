/** startGatewayServer: the gateway on a real port (Node adapter). Loopback by default. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createGateway, type GatewayOptions } from './app.ts';

export interface GatewayServerOptions extends GatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface GatewayServer {
  /** e.g. http://127.0.0.1:8787 (no trailing slash); the OpenAI base URL is `${url}/v1`. */
  url: string;
  port: number;
  /** Stops accepting, closes open connections (streams in flight are aborted, and settle for what they sent). */
  close(): Promise<void>;
}

export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const host = options.host ?? '127.0.0.1';
  const app = createGateway({ ...options, bindHost: host });
  return await new Promise<GatewayServer>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, (info: AddressInfo) => {
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
