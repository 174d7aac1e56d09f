/**
 * `perdiem up` as a user runs it: a real process, then the official openai client with the printed key, the
 * balance route, Ctrl-C, and a second `up` that resumes the same chain, ledger and key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteFollowerStore } from '../chain/follower/sqliteFollowerStore.ts';
import type { StackState } from './stateFile.ts';
import { startUpProcess, stopUpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-'));

async function balance(state: StackState) {
  const response = await fetch(`${state.gatewayUrl}/api/v1/billing/balance`, {
    headers: { authorization: `Bearer ${state.demo!.apiKey}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { diemEpochAllocation: number; balances: { diem: number } };
}

// Each test starts whole stacks (chain, model, gateway): generous timeouts for a loaded 2-core machine.
describe('perdiem up', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('serves a completion to the openai client with the printed key, charged to the on-chain DIEM allowance', async () => {
    const running = await startUpProcess(home);
    try {
      const { state } = running;
      // The demo wallet staked 100 DIEM: $100 of inference this epoch.
      expect((await balance(state)).diemEpochAllocation).toBe(100);

      const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey: state.demo!.apiKey });
      const completion = await openai.chat.completions.create({
        model: 'perdiem-demo',
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 8,
      });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
      const usage = completion.usage!;
      // $0.20 / $0.80 per 1M tokens: 200 and 800 nano-USD per token.
      const costNano = usage.prompt_tokens * 200 + usage.completion_tokens * 800;
      const after = await balance(state);
      expect(Math.round((100 - after.balances.diem) * 1e9)).toBe(costNano);

      // x402: a top-up without payment answers 402 with the requirements for the local test USDC.
      const topUp = await fetch(`${state.gatewayUrl}/api/v1/x402/top-up?amountUsd=5`, { method: 'POST' });
      expect(topUp.status).toBe(402);
      expect(topUp.headers.get('payment-required')).toBeTruthy();
      expect(JSON.stringify(await topUp.json())).toContain(state.x402!.usdc);

      // The event follower records the demo wallet's stake → mint → stake history in the ledger's database.
      const store = openSqliteFollowerStore({ path: path.join(home, 'ledger.sqlite') });
      try {
        const kinds = async () =>
          (await store.history({ chainId: state.chainId, account: state.demo!.address })).events.map(
            (event) => event.kind,
          );
        await expect
          .poll(kinds, { timeout: 20_000, interval: 500 })
          .toEqual(expect.arrayContaining(['stakedVvv.Staked', 'stakedVvv.DiemMinted', 'diemStaking.Staked']));
      } finally {
        await store.close();
      }
    } finally {
      expect(await stopUpProcess(running)).toBe(0);
    }
  });

  it('resumes the same chain, ledger, key and operator prices on a second start', async () => {
    const first = await startUpProcess(home);
    // The operator reprices the demo model, as `perdiem prices set` does: from the next epoch (a UTC day on the
    // local chain), past the 20% step bound with a reason.
    const admin = { authorization: `Bearer ${first.state.operatorToken}`, 'content-type': 'application/json' };
    const sheet = {
      models: { 'perdiem-demo': { kind: 'text', inputPer1M: '0.3', outputPer1M: '0.9' } },
      override: { reason: 'demo repricing' },
    };
    const nextEpoch = new Date((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000).toISOString();
    const posted = await fetch(`${first.state.gatewayUrl}/admin/prices`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify(sheet),
    });
    expect(posted.status).toBe(201);
    const before = await balance(first.state);
    expect(await stopUpProcess(first)).toBe(0);

    const second = await startUpProcess(home);
    try {
      expect(second.state.contracts).toEqual(first.state.contracts);
      expect(second.state.demo!.apiKey).toBe(first.state.demo!.apiKey);
      expect(await balance(second.state)).toEqual(before);
      // The announced price survived the restart as the next one; requests are charged at the one in force until its
      // epoch begins: $0.20 / $0.80 per 1M tokens.
      const openai = new OpenAI({ baseURL: `${second.state.gatewayUrl}/v1`, apiKey: second.state.demo!.apiKey });
      const models = await openai.models.list();
      const demo = models.data.find((m) => m.id === 'perdiem-demo') as unknown as { model_spec: { pricing: unknown } };
      expect(demo.model_spec.pricing).toMatchObject({
        input: { usd: 0.2 },
        next: { input: { usd: 0.3 }, output: { usd: 0.9 }, effective_from: nextEpoch, notice: 'demo repricing' },
      });
      const { usage, cost } = (await openai.chat.completions.create({
        model: 'perdiem-demo',
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 4,
      })) as unknown as { usage: { prompt_tokens: number; completion_tokens: number }; cost: { nanoUsd: string } };
      expect(BigInt(cost.nanoUsd)).toBe(BigInt(usage.prompt_tokens * 200 + usage.completion_tokens * 800));
    } finally {
      expect(await stopUpProcess(second)).toBe(0);
    }
  });
});
