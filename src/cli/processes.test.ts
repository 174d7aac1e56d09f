import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isRunning,
  listeningSockets,
  portInUseMessage,
  portOwner,
  processRecord,
  processStartTime,
  reapOrphan,
  takePidLock,
  writePidFile,
} from './processes.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'perdiem-processes-'));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A node child that runs `script`; resolves once it printed its first line (its port, or "ready"). */
function nodeChild(script: string, ...args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve({ child, line: chunk.toString().trim() }));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

const listener = `const s = require('node:net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port));`;
const idle = `console.log('ready'); setInterval(() => {}, 1000);`;

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('pid files', () => {
  it('tells a live process from a dead one by its start time', async () => {
    const { child } = await nodeChild(idle);
    const record = processRecord(child.pid!);
    expect(record.startTime).toMatch(/^\d+$/);
    expect(isRunning(record)).toBe(true);
    // The same pid with another start time is a different process.
    expect(isRunning({ ...record, startTime: '1' })).toBe(false);
    child.kill('SIGKILL');
    await exited(child);
    expect(isRunning(record)).toBe(false);
    expect(processStartTime(child.pid!)).toBeNull();
  });

  it('refuses a lock held by a live process and names it, and takes over a stale one', async () => {
    const file = path.join(dir, 'up.pid');
    const { child } = await nodeChild(idle);
    const first = takePidLock(file, child.pid!);
    expect(first.taken).toBe(true);

    const second = takePidLock(file, process.pid);
    expect(second).toEqual({ taken: false, holder: expect.objectContaining({ pid: child.pid }) });

    child.kill('SIGKILL');
    await exited(child);
    const third = takePidLock(file, process.pid);
    expect(third.taken).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
  });

  it('reaps the orphan a pid file names when its command line belongs to us, with SIGTERM', async () => {
    const file = path.join(dir, 'orphan.pid');
    const marker = path.join(dir, 'state-of-this-home.json');
    const { child } = await nodeChild(idle, marker);
    writePidFile(file, processRecord(child.pid!));

    expect(await reapOrphan(file, (cmdline) => cmdline.includes(marker))).toBe(child.pid);
    await exited(child);
    expect(child.signalCode).toBe('SIGTERM');
    expect(existsSync(file)).toBe(false);
  });

  it('leaves alone a process whose command line is not ours, and drops the pid file', async () => {
    const file = path.join(dir, 'foreign.pid');
    const { child } = await nodeChild(idle);
    writePidFile(file, processRecord(child.pid!));

    expect(await reapOrphan(file, (cmdline) => cmdline.includes('/some/other/home'))).toBeNull();
    expect(isRunning(processRecord(child.pid!))).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('ignores a pid file that names a reused pid (same pid, other start time)', async () => {
    const file = path.join(dir, 'reused.pid');
    const { child } = await nodeChild(idle, 'marker');
    writePidFile(file, { pid: child.pid!, startTime: '1' });
    expect(await reapOrphan(file, () => true)).toBeNull();
    expect(isRunning(processRecord(child.pid!))).toBe(true);
  });
});

describe('port owners', () => {
  it('finds the pid and command line of the process listening on a port', async () => {
    const { child, line } = await nodeChild(listener);
    const port = Number(line);
    const owner = portOwner(port);
    expect(owner).toEqual({ kind: 'process', pid: child.pid, cmdline: expect.arrayContaining(['-e']) });
    expect(portInUseMessage(port, '--chain-port', owner)).toMatch(
      new RegExp(`^port ${port} is in use by pid ${child.pid} \\(.*node.* -e .*\\); stop it or pass --chain-port N$`),
    );
  });

  it('finds nobody on a port nothing listens on', async () => {
    const { child, line } = await nodeChild(listener);
    child.kill('SIGKILL');
    await exited(child);
    expect(portOwner(Number(line))).toBeNull();
  });

  it('reads listening sockets from /proc/net/tcp and tcp6, and says when their owner cannot be seen', () => {
    const tcp = path.join(dir, 'tcp');
    const tcp6 = path.join(dir, 'tcp6');
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    writeFileSync(
      tcp,
      `${header}   0: 0100007F:2161 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 424242 1 0\n` +
        // Port 8545 again, but an established connection: not a listener.
        `   1: 0100007F:2161 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 515151 1 0\n`,
    );
    writeFileSync(
      tcp6,
      `${header}   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 616161 1 0\n`,
    );
    expect(listeningSockets(8545, [tcp, tcp6])).toEqual([{ inode: '424242', uid: 1001 }]);
    expect(listeningSockets(8080, [tcp, tcp6])).toEqual([{ inode: '616161', uid: 1000 }]);
    expect(portInUseMessage(8545, '--chain-port', { kind: 'hidden', uid: 1001 })).toBe(
      'port 8545 is in use by a process this user cannot see (uid 1001); stop it or pass --chain-port N',
    );
  });
});
