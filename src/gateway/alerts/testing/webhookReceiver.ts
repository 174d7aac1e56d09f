/**
 * A real webhook receiver on 127.0.0.1 for tests: it verifies every request's signature, deduplicates events by
 * `webhook-id` as a receiver should, and can be told to fail (answer 500 after reading the event, or hang), or be
 * closed and opened again on the same port.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../webhookSignature.ts';

export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface ReceivedRequest {
  id: string;
  timestamp: string;
  body: string;
  verified: boolean;
  status: number;
}

export interface WebhookReceiver {
  url: string;
  mode: ReceiverMode;
  requests: ReceivedRequest[];
  /** Events processed, once per webhook-id (answered 2xx, or read before a 500). */
  processed: Map<string, unknown>;
  /** Requests whose webhook-id had been processed already: replays, recognised by their id. */
  replays: number;
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

export async function startWebhookReceiver(secret: () => string, nowMs: () => number = Date.now) {
  let port = 0;
  let server: Server;
  const receiver: WebhookReceiver = {
    url: '',
    mode: 'ok',
    requests: [],
    processed: new Map(),
    replays: 0,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
    reopen: () => listen(),
  };
  const handle = async (request: IncomingMessage, respond: (status: number) => void) => {
    const body = await readBody(request);
    const header = (name: string) => String(request.headers[name] ?? '');
    const verified = verifyWebhook(secret(), request.headers, body, 300, nowMs());
    const id = header('webhook-id');
    if (receiver.mode === 'hang') return;
    if (verified && receiver.processed.has(id)) receiver.replays += 1;
    else if (verified) receiver.processed.set(id, JSON.parse(body));
    const status = verified && receiver.mode === 'ok' ? 200 : 500;
    receiver.requests.push({ id, timestamp: header('webhook-timestamp'), body, verified, status });
    respond(status);
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((request, response) => {
        void handle(request, (status) => response.writeHead(status).end());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        receiver.url = `http://127.0.0.1:${port}/hooks/perdiem`;
        resolve();
      });
    });
  await listen();
  return receiver;
}
