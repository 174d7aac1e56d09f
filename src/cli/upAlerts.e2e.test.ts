/**
 * Budget alerts through `perdiem up`: spend past 50% of a budget and the webhook receiver (a real HTTP server on
 * loopback) gets a signed alert; past 80% while the receiver fails, the delivery is retried; `up` is SIGKILLed and
 * started again, the receiver recovers, and the pending alert arrives while the delivered one is not sent again.
 * The organization, budget and settled spend are written into the ledger file directly, as metering counts spend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../gateway/alerts/testing/webhookReceiver.ts';
import { openSqliteDatabase } from '../ledger/sqlite/openDatabase.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { startUpProcess, stopUpProcess, type UpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-alerts-'));
const ledgerFile = path.join(home, 'ledger.sqlite');
const usd = (n: number) => BigInt(Math.round(n * 100)) * 10_000_000n;
const monthKey = () => `MONTH:${new Date().toISOString().slice(0, 7)}`;

function exec(sql: string, ...params: (string | number | bigint)[]): void {
  const db = openSqliteDatabase(ledgerFile);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

const setSpend = (spentNano: bigint) =>
  exec(
    `INSERT INTO budget_spend (scope_id, class, period_key, spent_nano, reserved_nano) VALUES ('prj_e2e', 'DIEM', ?, ?, 0)
     ON CONFLICT (scope_id, class, period_key) DO UPDATE SET spent_nano = excluded.spent_nano`,
    monthKey(),
    spentNano,
  );

describe('budget alerts through perdiem up, across a SIGKILL', { timeout: 240_000 }, () => {
  let first: UpProcess | undefined;
  let second: UpProcess | undefined;
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    if (second) await stopUpProcess(second);
    try {
      if (first?.child.pid) process.kill(-first.child.pid, 'SIGKILL');
    } catch {}
    await receiver?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('delivers each alert once: before the crash, and the pending one after the restart', async () => {
    let secret = '';
    receiver = await startWebhookReceiver(() => secret);
    first = await startUpProcess(home, { args: ['--alert-interval-ms', '200'] });
    const owner = first.state.demo!.accountId;
    exec("INSERT INTO organizations (id, name, account_id, created_at_ms) VALUES ('org_e2e', 'e2e', ?, 0)", owner);
    exec("INSERT INTO org_members (org_id, account_id, role, added_at_ms) VALUES ('org_e2e', ?, 'OWNER', 0)", owner);
    exec(`INSERT INTO budgets (scope_id, scope, org_id, currency, period, amount_nano, thresholds, updated_at_ms)
      VALUES ('prj_e2e', 'PROJECT', 'org_e2e', 'TOTAL', 'MONTH', ${usd(10)}, '[50,80,100]', 0)`);
    const peer = openSqliteLedger({ path: ledgerFile, clock: Date.now, backgroundCheckpoints: false });
    secret = (await peer.addWebhook(owner, 'org_e2e', { url: receiver.url })).secret;
    await peer.close();

    setSpend(usd(6));
    await expect.poll(() => receiver!.requests.length, { timeout: 20_000, interval: 100 }).toBe(1);
    const [fifty] = receiver.requests;
    expect(fifty).toMatchObject({ verified: true, status: 200 });
    expect(receiver.processed.get(fifty!.id)).toMatchObject({
      type: 'budget.threshold',
      data: { orgId: 'org_e2e', scopeId: 'prj_e2e', thresholdPercent: 50, amount: '10', spent: '6' },
    });

    receiver.mode = 'fail';
    setSpend(usd(8.5));
    await expect.poll(() => receiver!.requests.length, { timeout: 20_000, interval: 100 }).toBeGreaterThan(1);
    const eighty = receiver.requests[1]!;
    expect(eighty).toMatchObject({ verified: true, status: 500 });
    expect(eighty.id).not.toBe(fifty!.id);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first!.child.once('exit', resolve));
    receiver.mode = 'ok';
    second = await startUpProcess(home, { args: ['--alert-interval-ms', '200'] });
    const delivered = (id: string) => receiver!.requests.filter((r) => r.id === id && r.status === 200).length;
    // Within a delivery lease (30 s) even if the kill came mid-request.
    await expect.poll(() => delivered(eighty.id), { timeout: 45_000, interval: 100 }).toBe(1);
    // Several more passes: nothing is sent again.
    const settled = receiver.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(receiver.requests.length).toBe(settled);
    expect(delivered(fifty!.id)).toBe(1);
    expect(delivered(eighty.id)).toBe(1);
    expect(receiver.requests.every((r) => r.verified)).toBe(true);
    expect([...receiver.processed.keys()].sort()).toEqual([fifty!.id, eighty.id].sort());
    // The retry after the restart was recognisable as a replay of the event read before the crash.
    expect(receiver.replays).toBeGreaterThanOrEqual(1);
  });
});
