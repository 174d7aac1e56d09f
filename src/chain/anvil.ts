/**
 * Starts and stops a local anvil chain from the `@foundry-rs/anvil` npm package. With `statePath`, the chain
 * state is loaded at start and dumped on exit, so a second start resumes the same chain.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { anvilReadyTimeoutMs, anvilStopTimeoutMs } from './limits.ts';

export interface AnvilOptions {
  /** 0 picks a free port. */
  port?: number;
  chainId?: number;
  /** Load the chain from this file if it exists, and dump it there on exit. */
  statePath?: string;
  /** Seconds between automatic state dumps, so a killed process loses little (needs statePath). */
  stateIntervalSeconds?: number;
  /** Start the chain at this unix time (seconds). */
  timestampSeconds?: number;
}

/** Anvil could not bind its port: another process holds it. */
export class AnvilPortInUseError extends Error {
  override readonly name = 'AnvilPortInUseError';
  readonly port: number;
  constructor(port: number, output: string) {
    super(`anvil could not bind port ${port}: address already in use\n${output}`);
    this.port = port;
  }
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  chainId: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The mnemonic anvil derives its funded dev accounts from. Development only. */
export const anvilMnemonic = 'test test test test test test test test test test test junk';

/** The native anvil binary shipped in the platform package (signals reach it directly, unlike the JS wrapper). */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`);
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = options.chainId ?? 31337;
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--chain-id', String(chainId)];
  if (options.statePath) args.push('--state', options.statePath);
  if (options.statePath && options.stateIntervalSeconds) {
    args.push('--state-interval', String(options.stateIntervalSeconds));
  }
  if (options.timestampSeconds !== undefined) args.push('--timestamp', String(options.timestampSeconds));
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await waitForListening(child, options.port ?? 0);
  const rpcUrl = `http://127.0.0.1:${port}`;
  return { rpcUrl, port, chainId, process: child, stop: () => stopProcess(child) };
}

function waitForListening(child: ChildProcess, requestedPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`anvil not ready after ${anvilReadyTimeoutMs} ms:\n${output}`)),
      anvilReadyTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        cleanup();
        // Keep draining output so anvil never blocks on a full pipe.
        child.stdout?.resume();
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null) =>
      fail(
        /address already in use/i.test(output)
          ? new AnvilPortInUseError(requestedPort, output)
          : new Error(`anvil exited with code ${code} before it was ready:\n${output}`),
      );
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('close', onExit);
    }
    function fail(error: Error) {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // 'close' comes after the output pipes are drained, so the reason anvil gave is in `output`.
    child.on('close', onExit);
  });
}

/** SIGINT lets anvil dump its state; SIGKILL follows if it does not exit in time. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), anvilStopTimeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}
