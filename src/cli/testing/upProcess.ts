/** `perdiem up --json` as a real child process, for tests: started on free ports, stopped with Ctrl-C (SIGINT). */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { StackState } from '../stateFile.ts';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

export interface UpProcess {
  child: ChildProcess;
  state: StackState;
}

export interface UpProcessOptions {
  /** Flags after the defaults (`--port 0 --chain-port 0`); a later flag wins. */
  args?: string[];
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/** `perdiem up` on `home` as a child process in its own process group (so anvil can be killed with it). */
export function spawnUp(home: string, options: UpProcessOptions = {}): ChildProcess {
  return spawn(
    process.execPath,
    ['src/cli/main.ts', 'up', '--home', home, '--port', '0', '--chain-port', '0', '--json', ...(options.args ?? [])],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...options.env } },
  );
}

/** Resolves with the state `up` prints once everything is serving. */
export function startUpProcess(home: string, options: UpProcessOptions = {}): Promise<UpProcess> {
  const child = spawnUp(home, options);
  // A test that times out never reaches its stop: do not leave a whole stack running after the test process.
  const killOnExit = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve({ child, state: JSON.parse(line) as StackState });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`perdiem up exited with ${code}:\n${output}`)));
  });
}

/** Ctrl-C; resolves with the exit code. */
export function stopUpProcess(running: UpProcess): Promise<number | null> {
  if (running.child.exitCode !== null) return Promise.resolve(running.child.exitCode);
  return new Promise((resolve) => {
    running.child.once('exit', (code) => resolve(code));
    running.child.kill('SIGINT');
  });
}

/** Runs `up` until it exits (for starts that must fail): its exit code and everything it printed. */
export function failedUp(
  home: string,
  options: UpProcessOptions = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawnUp(home, options);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      // A start that did not fail is stopped, and reported by its output.
      resolve({ code, output });
    });
    child.stdout?.on('data', () => {
      if (output.includes('{"gatewayUrl"')) child.kill('SIGINT');
    });
  });
}
