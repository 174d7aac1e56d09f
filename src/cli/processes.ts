/**
 * The processes `perdiem up` owns, read from /proc (Linux): pid files that survive a crash of `up`, the reaping of
 * an orphan they name, and the owner of a port that is already taken. Elsewhere /proc is missing and each function
 * degrades to what can be known without it (a pid is alive or not; a port is taken by someone).
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { processReapGraceMs, processReapPollMs } from './limits.ts';

/** A process as a pid file names it: the start time tells a live process from a later one given the same pid. */
export interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); null where /proc is missing. */
  startTime: string | null;
  port?: number;
}

/** Fields 3 onwards of /proc/<pid>/stat, or null. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The start time of a live process, or null when it is gone (or /proc is missing). */
export function processStartTime(pid: number): string | null {
  const fields = statFields(pid);
  // A zombie has exited; it only waits for its parent to collect it.
  if (fields === null || fields[0] === 'Z') return null;
  return fields[19] ?? null;
}

/** The arguments a process was started with, or null when they cannot be read. */
export function processCmdline(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process a record names is still the one that wrote it. */
export function isRunning(record: ProcessRecord): boolean {
  if (!pidAlive(record.pid)) return false;
  const fields = statFields(record.pid);
  if (fields?.[0] === 'Z') return false;
  const startTime = fields?.[19] ?? null;
  // Without /proc a reused pid cannot be told apart; a live pid is taken at its word.
  return record.startTime === null || startTime === null || startTime === record.startTime;
}

export function processRecord(pid: number, port?: number): ProcessRecord {
  return { pid, startTime: processStartTime(pid), ...(port === undefined ? {} : { port }) };
}

export function readPidFile(file: string): ProcessRecord | null {
  let parsed: Partial<ProcessRecord>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProcessRecord>;
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(parsed.pid) || (parsed.pid ?? 0) <= 0) return null;
  return {
    ...parsed,
    pid: parsed.pid!,
    startTime: typeof parsed.startTime === 'string' ? parsed.startTime : null,
  };
}

export function writePidFile(file: string, record: ProcessRecord): void {
  writeFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Removes the pid file if it still names `record` (a successor may have taken it over). */
export function removePidFile(file: string, record: ProcessRecord): void {
  const current = readPidFile(file);
  if (current?.pid === record.pid && current.startTime === record.startTime) rmSync(file, { force: true });
}

/** SIGTERM, then SIGKILL if the process is still there after the grace period. Resolves once it is gone. */
export async function terminate(record: ProcessRecord, graceMs = processReapGraceMs): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(record.pid, name);
    } catch {}
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(record) && Date.now() < deadline) await sleep(processReapPollMs);
  if (!isRunning(record)) return;
  signal('SIGKILL');
  while (isRunning(record)) await sleep(processReapPollMs);
}

/**
 * Reaps the process a pid file names when it is still running and `belongs` recognises its command line; removes a
 * stale pid file. Returns the pid it reaped.
 */
export async function reapOrphan(file: string, belongs: (cmdline: string[]) => boolean): Promise<number | null> {
  const record = readPidFile(file);
  if (record === null) return null;
  const cmdline = isRunning(record) ? processCmdline(record.pid) : null;
  if (cmdline === null || !belongs(cmdline)) {
    rmSync(file, { force: true });
    return null;
  }
  await terminate(record);
  rmSync(file, { force: true });
  return record.pid;
}

export type LockResult = { taken: true; record: ProcessRecord } | { taken: false; holder: ProcessRecord };

/** Takes a pid file for `pid` unless a running process holds it; a stale one (its process gone) is taken over. */
export function takePidLock(file: string, pid: number): LockResult {
  const record = processRecord(pid);
  for (;;) {
    try {
      writeFileSync(file, `${JSON.stringify(record)}\n`, { flag: 'wx' });
      return { taken: true, record };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readPidFile(file);
    if (holder !== null && holder.pid !== pid && isRunning(holder)) return { taken: false, holder };
    rmSync(file, { force: true });
  }
}

/** Who listens on a TCP port: a pid and its command line, someone this user cannot see, or nobody. */
export type PortOwner = { kind: 'process'; pid: number; cmdline: string[] } | { kind: 'hidden'; uid: number | null };

/** The listening sockets' inodes (and owners' uids) for a port, from /proc/net/tcp and tcp6. */
export function listeningSockets(
  port: number,
  tables = ['/proc/net/tcp', '/proc/net/tcp6'],
): { inode: string; uid: number }[] {
  const listen = '0A';
  const sockets: { inode: string; uid: number }[] = [];
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== listen) continue;
      const localPort = Number.parseInt(fields[1]!.split(':')[1] ?? '', 16);
      if (localPort === port && fields[9] !== '0') sockets.push({ inode: fields[9]!, uid: Number(fields[7]) });
    }
  }
  return sockets;
}

/** The process holding one of these socket inodes, among those whose /proc/<pid>/fd this user may read. */
function socketHolder(inodes: Set<string>): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1]!)) return Number(pid);
    }
  }
  return null;
}

/** Who listens on `port`; null when no listening socket is found (or /proc is missing). */
export function portOwner(port: number): PortOwner | null {
  const sockets = listeningSockets(port);
  if (sockets.length === 0) return null;
  const pid = socketHolder(new Set(sockets.map((socket) => socket.inode)));
  if (pid === null) return { kind: 'hidden', uid: sockets[0]!.uid };
  return { kind: 'process', pid, cmdline: processCmdline(pid) ?? [] };
}

const cmdlineShownMax = 160;

/** "port 8545 is in use by pid 1234 (anvil --port 8545); stop it or pass --chain-port N" */
export function portInUseMessage(port: number, flag: string, owner: PortOwner | null): string {
  const remedy = `stop it or pass ${flag} N`;
  if (owner === null) return `port ${port} is in use; ${remedy}`;
  if (owner.kind === 'hidden') {
    const whose = owner.uid === null ? '' : ` (uid ${owner.uid})`;
    return `port ${port} is in use by a process this user cannot see${whose}; ${remedy}`;
  }
  let cmdline = owner.cmdline.join(' ');
  if (cmdline.length > cmdlineShownMax) cmdline = `${cmdline.slice(0, cmdlineShownMax)}…`;
  return `port ${port} is in use by pid ${owner.pid} (${cmdline || 'command line unknown'}); ${remedy}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
