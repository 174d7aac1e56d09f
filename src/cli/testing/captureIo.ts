/** An in-process `CliIo` that records what a verb prints, for tests driving `main(argv, io)`. */
import { type AddressInfo, createServer } from 'node:net';
import type { CliIo } from '../command.ts';

export interface CapturedIo {
  io: CliIo;
  out: string[];
  err: string[];
  /** Everything printed to stdout, joined by newlines. */
  stdout(): string;
  stderr(): string;
}

export function captureIo(cwd: string, env: NodeJS.ProcessEnv = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      cwd,
      env,
      stopRequested: new Promise(() => {}),
    },
    out,
    err,
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

/** A port nothing listens on (fetch refuses well-known ports such as 9 outright, which is a different failure). */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
