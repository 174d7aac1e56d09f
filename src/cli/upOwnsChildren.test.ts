/**
 * `perdiem up` owns the processes it starts: after a SIGKILL of `up`, the anvil it left behind is reaped by the next
 * `up` of the same home, which then starts on the same chain port; a second `up` on a live home is refused; and a
 * port held by some other process is reported with that process's pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, readPidFile } from './processes.ts';
import { closedPort } from './testing/captureIo.ts';
import { failedUp, startUpProcess, stopUpProcess } from './testing/upProcess.ts';

const root = mkdtempSync(path.join(tmpdir(), 'perdiem-up-owns-'));
const groups: number[] = [];
const others: ChildProcess[] = [];

afterAll(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
  for (const child of others) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A process of this user that listens on a port: not ours, not anvil. */
function foreignListener(): Promise<{ child: ChildProcess; port: number }> {
  const script = `const s = require('node:net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  others.push(child);
  return new Promise((resolve) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve({ child, port: Number(chunk.toString().trim()) }));
  });
}

describe('perdiem up owns its children', { timeout: 300_000 }, () => {
  it('reaps the anvil a killed `up` left on the chain port, and starts again on that port', async () => {
    const home = path.join(root, 'crash');
    const chainPort = await closedPort();
    const args = ['--chain-port', String(chainPort)];
    const first = await startUpProcess(home, { args });
    groups.push(first.child.pid!);
    const anvil = readPidFile(path.join(home, 'chain', 'anvil.pid'))!;
    expect(anvil).toMatchObject({ port: chainPort, startTime: expect.stringMatching(/^\d+$/) });
    expect(isRunning(anvil)).toBe(true);

    // While the first is alive, a second `up` on the same home is refused, naming it.
    const refused = await failedUp(home, { args });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`another perdiem up (pid ${first.child.pid}) is running on ${home}`);

    // A crash: `up` dies without stopping anything; its anvil keeps the port.
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(isRunning(anvil)).toBe(true);

    const second = await startUpProcess(home, { args });
    groups.push(second.child.pid!);
    try {
      expect(isRunning(anvil)).toBe(false);
      expect(second.state.rpcUrl).toBe(`http://127.0.0.1:${chainPort}`);
      // The same chain, resumed from the state file the reaped anvil kept.
      expect(second.state.contracts).toEqual(first.state.contracts);
      const next = readPidFile(path.join(home, 'chain', 'anvil.pid'))!;
      expect(next.pid).not.toBe(anvil.pid);
      expect(isRunning(next)).toBe(true);
    } finally {
      expect(await stopUpProcess(second)).toBe(0);
    }
    // A clean stop leaves no pid file behind.
    expect(existsSync(path.join(home, 'chain', 'anvil.pid'))).toBe(false);
    expect(existsSync(path.join(home, 'up.pid'))).toBe(false);
  });

  it('names the process that holds the chain port or the gateway port', async () => {
    const { child, port } = await foreignListener();
    const chain = await failedUp(path.join(root, 'chain-port'), { args: ['--chain-port', String(port)] });
    expect(chain.code).toBe(1);
    expect(chain.output).toMatch(
      new RegExp(`port ${port} is in use by pid ${child.pid} \\(.*node -e .*\\); stop it or pass --chain-port N`),
    );

    const gateway = await failedUp(path.join(root, 'gateway-port'), { args: ['--port', String(port)] });
    expect(gateway.code).toBe(1);
    expect(gateway.output).toMatch(
      new RegExp(`port ${port} is in use by pid ${child.pid} \\(.*node -e .*\\); stop it or pass --port N`),
    );
  });
});
