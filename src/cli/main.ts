#!/usr/bin/env node
/** The `perdiem` command: `perdiem <verb> [options]`. One file per verb, registered in verbs.ts. */
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from './command.ts';
import { verbs } from './verbs.ts';

function helpText(): string {
  const width = Math.max(...Object.keys(verbs).map((verb) => verb.length));
  const lines = Object.entries(verbs).map(([verb, command]) => `  ${verb.padEnd(width)}  ${command.summary}`);
  return [
    'usage: perdiem <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'perdiem <command> --help for its options',
  ].join('\n');
}

function isVerb(name: string): name is keyof typeof verbs {
  return Object.hasOwn(verbs, name);
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    io.out(helpText());
    return verb ? 0 : 2;
  }
  if (!isVerb(verb)) {
    io.err(`perdiem: unknown command '${verb}'\n\n${helpText()}`);
    return 2;
  }
  const command = verbs[verb];
  try {
    // parseArgs would take "-5" for an unknown flag; no verb takes a negative number.
    const negative = rest.find((arg) => /^-\d/.test(arg));
    if (negative !== undefined) throw new UsageError(`amounts must not be negative: ${negative}`);
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) {
      io.out(command.usage);
      return 0;
    }
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`perdiem ${verb}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    io.err(`perdiem ${verb}: ${(error as Error).message}`);
    return 1;
  }
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

if (import.meta.main) {
  // `perdiem usage | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const io: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    cwd: process.cwd(),
    env: process.env,
    stopRequested: stopSignal(),
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
