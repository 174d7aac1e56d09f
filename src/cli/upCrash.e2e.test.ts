/**
 * Crash recovery the way a user meets it: `perdiem up`, load with streams in flight, SIGKILL of the `up` process (the
 * gateway dies mid-request, its anvil is orphaned), then the same `perdiem up` again with no manual step. Within 30 s
 * no hold of the dead process is left, the balance is exactly the allowance minus what was charged, every response
 * that completed is charged exactly once, and an idempotent request whose first attempt died runs again, charged once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUsd } from '../core/money.ts';
import type { StackState } from './stateFile.ts';
import { startUpProcess, stopUpProcess, type UpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-crash-'));
const story = (maxTokens: number) => ({
  model: 'perdiem-demo',
  messages: [{ role: 'user' as const, content: 'Tell me a long story' }],
  max_tokens: maxTokens,
});

interface AdminBalance {
  diem: { allowanceNano: string; spentNano: string; reservedNano: string; availableNano: string };
  credits: { reservedNano: string };
  usd: { reservedNano: string };
}

async function adminBalance(state: StackState): Promise<AdminBalance> {
  const response = await fetch(`${state.gatewayUrl}/admin/accounts/${state.demo!.accountId}`, {
    headers: { authorization: `Bearer ${state.operatorToken}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: { balance: AdminBalance } }).data.balance;
}

/** Every usage row of the demo account, as the user reads them: request id and amount charged. */
async function usageRows(state: StackState): Promise<{ requestId: string; amountNano: bigint }[]> {
  const rows: { requestId: string; amountNano: bigint }[] = [];
  let cursor = '';
  do {
    const response = await fetch(
      `${state.gatewayUrl}/api/v1/billing/usage-history?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: { authorization: `Bearer ${state.demo!.apiKey}` } },
    );
    const page = (await response.json()) as { data: { requestId: string; amount: string }[]; nextCursor: string };
    for (const row of page.data) rows.push({ requestId: row.requestId, amountNano: parseUsd(row.amount) });
    cursor = page.nextCursor ?? '';
  } while (cursor);
  return rows;
}

function liveHoldsInFile(): number {
  const db = new DatabaseSync(path.join(home, 'ledger.sqlite'), { readOnly: true });
  try {
    return Number(
      (db.prepare("SELECT count(*) AS n FROM reservations WHERE status = 'RESERVED'").get() as { n: number }).n,
    );
  } finally {
    db.close();
  }
}

/** The statuses of the reservations made under an idempotency key, oldest first. */
function attemptsOf(idempotencyKey: string): string[] {
  const db = new DatabaseSync(path.join(home, 'ledger.sqlite'), { readOnly: true });
  try {
    const rows = db
      .prepare('SELECT status FROM reservations WHERE idempotency_key = ? ORDER BY id')
      .all(idempotencyKey) as { status: string }[];
    return rows.map((row) => row.status);
  } finally {
    db.close();
  }
}

const costOf = (body: unknown) => BigInt((body as { cost: { nanoUsd: string } }).cost.nanoUsd);

describe('perdiem up after a SIGKILL under load', { timeout: 240_000 }, () => {
  let first: UpProcess | undefined;
  let second: UpProcess | undefined;
  afterAll(async () => {
    if (second) await stopUpProcess(second);
    // Whatever the first `up` left (its anvil) if the second never reaped it.
    try {
      if (first?.child.pid) process.kill(-first.child.pid, 'SIGKILL');
    } catch {}
    rmSync(home, { recursive: true, force: true });
  });

  it('releases the dead process holds at the next start, restores balances and charges completed answers once', async () => {
    first = await startUpProcess(home);
    const { state } = first;
    const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey: state.demo!.apiKey, maxRetries: 0 });

    // Answers that complete before the crash, each with the request id and cost it was answered with.
    const completed = new Map<string, bigint>();
    for (let i = 0; i < 3; i++) {
      const { data, response } = await openai.chat.completions.create(story(8)).withResponse();
      completed.set(response.headers.get('x-request-id')!, costOf(data));
    }

    // Load: streams and plain requests in flight at once. The model serves one request at a time, so the stream under
    // an Idempotency-Key, sent after four others, is still held (queued) when the process dies.
    // Every promise gets its outcome handled at once: the crash fails the ones still open.
    const streams = Array.from({ length: 4 }, () =>
      openai.chat.completions.create({ ...story(400), stream: true }).then(
        (stream) => stream,
        () => null,
      ),
    );
    const idempotent = { 'Idempotency-Key': 'crash-retry' };
    const keyed = openai.chat.completions.create({ ...story(400), stream: true }, { headers: idempotent }).then(
      (stream) => stream.controller.abort(),
      () => null,
    );
    const plain = Array.from({ length: 6 }, () =>
      openai.chat.completions
        .create(story(400))
        .withResponse()
        .then(({ data, response }) => completed.set(response.headers.get('x-request-id')!, costOf(data)))
        .catch(() => null),
    );
    const running = (await streams[0])!;
    const chunks = running[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    // Kill once the keyed stream holds its reservation (it waits behind the others for the model).
    await expect.poll(() => attemptsOf('crash-retry'), { timeout: 20_000, interval: 20 }).toEqual(['RESERVED']);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first!.child.once('exit', resolve));
    await Promise.all([...plain, keyed, ...streams]);
    running.controller.abort();
    await chunks.next().catch(() => null);
    // The crash left holds behind: recovery has something to do.
    const held = liveHoldsInFile();
    expect(held).toBeGreaterThan(0);

    // The same command again, no manual step (its anvil is reaped through the pid file).
    const restartedAt = Date.now();
    second = await startUpProcess(home);
    const restarted = second.state;
    await expect
      .poll(async () => (await adminBalance(restarted)).diem.reservedNano, { timeout: 30_000, interval: 250 })
      .toBe('0');
    const recoveredMs = Date.now() - restartedAt;
    expect(recoveredMs).toBeLessThan(30_000);
    if (process.env.PERDIEM_TEST_LOG)
      console.log(`crash: ${held} holds left by the dead process, none ${recoveredMs} ms after the restart began`);
    expect(liveHoldsInFile()).toBe(0);

    // Balances restored: what is available is the allowance less exactly what the usage rows charged.
    const balance = await adminBalance(restarted);
    const rows = await usageRows(restarted);
    const charged = rows.reduce((sum, row) => sum + row.amountNano, 0n);
    expect(BigInt(balance.diem.spentNano)).toBe(charged);
    expect(BigInt(balance.diem.availableNano)).toBe(BigInt(balance.diem.allowanceNano) - charged);
    expect(balance.credits.reservedNano).toBe('0');
    expect(balance.usd.reservedNano).toBe('0');

    // Every answer that completed is charged exactly once: its rows sum to the cost it was answered with.
    expect(completed.size).toBeGreaterThanOrEqual(3);
    for (const [requestId, cost] of completed) {
      const own = rows.filter((row) => row.requestId === requestId);
      expect(own.reduce((sum, row) => sum + row.amountNano, 0n)).toBe(cost);
    }

    // The idempotent stream died without an answer: its hold was voided, and its retry runs again (not 409), charged
    // once.
    expect(attemptsOf('crash-retry')).toEqual(['VOIDED']);
    const retryClient = new OpenAI({
      baseURL: `${restarted.gatewayUrl}/v1`,
      apiKey: restarted.demo!.apiKey,
      maxRetries: 0,
    });
    const retry = await retryClient.chat.completions
      .create({ ...story(400), stream: true }, { headers: idempotent })
      .withResponse();
    let retryCost = 0n;
    for await (const chunk of retry.data) {
      if ((chunk as unknown as { cost?: unknown }).cost) retryCost = costOf(chunk);
    }
    expect(retryCost).toBeGreaterThan(0n);
    const retryRows = (await usageRows(restarted)).filter(
      (row) => row.requestId === retry.response.headers.get('x-request-id'),
    );
    expect(retryRows.reduce((sum, row) => sum + row.amountNano, 0n)).toBe(retryCost);
    const replay = await retryClient.chat.completions
      .create({ ...story(400), stream: true }, { headers: idempotent })
      .withResponse();
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    for await (const _ of replay.data) {
      // drain
    }
    const after = await adminBalance(restarted);
    expect(BigInt(after.diem.spentNano)).toBe(charged + retryCost);
    expect(attemptsOf('crash-retry')).toEqual(['VOIDED', 'SETTLED']);
  });
});
