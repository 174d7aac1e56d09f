/** An in-process `CliIo` that records what a verb prints, for tests driving `main(argv, io)`. */
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
