/** The shape of one `perdiem` verb. Each verb lives in its own file and is listed in `verbs.ts`. */
import type { ParseArgsConfig } from 'node:util';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Where `.perdiem/` lives: the working directory unless `--home` says otherwise. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (Ctrl-C / SIGTERM). */
  stopRequested: Promise<void>;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  summary: string;
  usage: string;
  options: OptionSpec;
  run(
    values: Record<string, string | boolean | string[] | boolean[] | undefined>,
    positionals: string[],
    io: CliIo,
  ): Promise<number>;
}

/** A usage mistake: printed with the verb's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
