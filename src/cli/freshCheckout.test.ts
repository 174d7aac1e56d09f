/**
 * What the README promises on a fresh machine: a clean clone, then `npm start` with only the system Node and npm
 * on PATH installs everything (Node 24 included), deploys, and serves; the official openai client gets a
 * completion with the printed key, and the balance shows a DIEM allocation equal to the demo wallet's stake.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { formatEther } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultDemoPlan } from '../chain/demo.ts';
import type { StackState } from './stateFile.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const workdir = mkdtempSync(path.join(tmpdir(), 'perdiem-fresh-'));
const clone = path.join(workdir, 'perdiem');
/** PATH without any node_modules/.bin: the machine's own node and npm only. */
const bareEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((entry) => !entry.includes('node_modules'))
    .join(path.delimiter),
};
for (const name of Object.keys(bareEnv)) if (name.startsWith('npm_')) delete bareEnv[name];

let child: ChildProcess | undefined;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopGroup(pgid: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  process.kill(-pgid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
}

function npmStart(): Promise<StackState> {
  child = spawn('npm', ['start', '--', '--port', '0', '--chain-port', '0', '--json'], {
    cwd: clone,
    env: bareEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{"gatewayUrl"'));
      if (line) resolve(JSON.parse(line) as StackState);
    });
    child!.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child!.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output.slice(-4000)}`)));
  });
}

describe('a fresh checkout', () => {
  afterAll(async () => {
    // Ctrl-C reaches the whole process group, as in a terminal; whatever is still there after 30 s is killed.
    if (child?.pid) await stopGroup(child.pid);
    rmSync(workdir, { recursive: true, force: true });
  }, 60_000);

  it('runs the stack with `npm start` on the system Node, and serves the demo key', { timeout: 600_000 }, async () => {
    execFileSync('git', ['clone', '--quiet', root, clone]);
    const state = await npmStart();

    const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey: state.demo!.apiKey });
    const completion = await openai.chat.completions.create({
      model: state.models[0]!,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4,
    });
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

    const balance = await fetch(`${state.gatewayUrl}/api/v1/billing/balance`, {
      headers: { authorization: `Bearer ${state.demo!.apiKey}` },
    });
    const body = (await balance.json()) as { diemEpochAllocation: number };
    expect(body.diemEpochAllocation).toBe(Number(formatEther(defaultDemoPlan.stakeDiemWei)));
  });
});
