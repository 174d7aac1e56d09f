/**
 * An OpenAI-compatible upstream that misbehaves on purpose, chosen by the model id:
 * - `fault-500`: answers 500;
 * - `fault-hang`: never answers (timeouts);
 * - `fault-reset-before`: destroys the connection before any byte;
 * - `fault-reset-after`: streams two chunks, then destroys the connection;
 * - `fault-slow`: streams a chunk every 20 ms up to 200 and records when the gateway hangs up.
 * Each content chunk is "abcd": one token by the estimator, since these streams report no usage.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const faultModels = ['fault-500', 'fault-hang', 'fault-reset-before', 'fault-reset-after', 'fault-slow'];

export interface FaultyUpstream {
  baseUrl: string;
  /** Chunks written by `fault-slow` before the gateway closed the connection, once it has. */
  slowClosedAfter: Promise<number>;
  close(): Promise<void>;
}

function chunk(model: string, content: string): string {
  const body = {
    id: 'chatcmpl-fault',
    object: 'chat.completion.chunk',
    created: 0,
    model,
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

async function readBody(req: IncomingMessage): Promise<{ model: string }> {
  const parts: Buffer[] = [];
  for await (const part of req as AsyncIterable<Buffer>) parts.push(part);
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as { model: string };
}

export async function startFaultyUpstream(): Promise<FaultyUpstream> {
  let slowClosed: (chunks: number) => void = () => {};
  const slowClosedAfter = new Promise<number>((resolve) => {
    slowClosed = resolve;
  });
  const timers = new Set<NodeJS.Timeout>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { model } = await readBody(req);
    switch (model) {
      case 'fault-500':
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'boom', type: 'server_error' } }));
        return;
      case 'fault-hang':
        return;
      case 'fault-reset-before':
        req.socket.destroy();
        return;
      case 'fault-reset-after':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk(model, 'abcd'));
        res.write(chunk(model, 'abcd'));
        setTimeout(() => req.socket.destroy(), 30);
        return;
      case 'fault-slow': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let written = 0;
        const timer = setInterval(() => {
          if (written >= 200) {
            clearInterval(timer);
            res.end('data: [DONE]\n\n');
            return;
          }
          res.write(chunk(model, 'abcd'));
          written++;
        }, 20);
        timers.add(timer);
        res.on('close', () => {
          clearInterval(timer);
          if (!res.writableFinished) slowClosed(written);
        });
        return;
      }
      default:
        res.writeHead(404).end();
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    slowClosedAfter,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
