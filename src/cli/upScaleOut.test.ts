/**
 * `perdiem up` with every embedded part switched to a real one: an external chain (its own anvil, contracts
 * deployed beforehand and given by file), PostgreSQL, Redis, and an OpenAI-compatible upstream (scripts/llama-server.ts
 * as a real process). No demo wallet exists there: a staked wallet gets its key through the wallet key flow, and
 * its on-chain DIEM pays for a completion made with the official openai client.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import postgres from 'postgres';
import { parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { mintDiem, stakeDiem } from '../chain/actions.ts';
import { walletClientFor } from '../chain/clients.ts';
import { setUpDemoWallet } from '../chain/demo.ts';
import { startTestChain, type TestChain } from '../chain/testChain.ts';
import { redisSkipReason } from '../gateway/rateLimit/redisTestHarness.ts';
import { writeTestModel } from '../gateway/testing/fixture.ts';
import { type LlamaServerProcess, startLlamaServerProcess } from '../gateway/testing/llamaServerProcess.ts';
import { postgresSkipReason, testDatabaseUrl } from '../ledger/testing/harness.ts';
import { type LocalStack, startLocalStack } from './localStack.ts';
import { resolveStackConfig } from './stackConfig.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-scaleout-'));
const schema = `perdiem_test_${randomBytes(6).toString('hex')}`;
const skip = (await postgresSkipReason()) ?? (await redisSkipReason());
if (skip) console.warn(`perdiem up scale-out test skipped: ${skip}`);

describe.skipIf(skip !== null)(
  'perdiem up on an external chain, PostgreSQL, Redis and an upstream',
  { timeout: 180_000 },
  () => {
    let chain: TestChain | undefined;
    let upstream: LlamaServerProcess | undefined;
    let stack: LocalStack | undefined;

    afterAll(async () => {
      await stack?.stop();
      await upstream?.stop();
      await chain?.stop();
      const sql = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.end();
      rmSync(home, { recursive: true, force: true });
    });

    it('serves a wallet that got its key by signature, from its staked DIEM', async () => {
      chain = await startTestChain();
      const staker = await setUpDemoWallet(chain.deployer, chain.client, chain.contracts);
      const contractsFile = path.join(home, 'contracts.json');
      writeFileSync(contractsFile, JSON.stringify(chain.contracts));
      upstream = await startLlamaServerProcess(await writeTestModel(home), 'upstream-demo');

      const config = resolveStackConfig(
        {
          home,
          port: '0',
          rpc: chain.anvil.rpcUrl,
          contracts: contractsFile,
          'database-url': testDatabaseUrl,
          'database-schema': schema,
          'redis-url': 'redis://127.0.0.1:6379',
          upstream: `${upstream.url}/v1`,
        },
        {},
        home,
      );
      stack = await startLocalStack({ config, progress: () => {} });
      const { state } = stack;
      expect(state.demo).toBeUndefined();
      expect(state.models).toEqual(['upstream-demo']);

      const wallet = privateKeyToAccount(staker.privateKey);
      const tokenAnswer = await fetch(`${state.gatewayUrl}/api/v1/api_keys/generate_web3_key`);
      const { token } = ((await tokenAnswer.json()) as { data: { token: string } }).data;
      const created = await fetch(`${state.gatewayUrl}/api/v1/api_keys/generate_web3_key`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiKeyType: 'INFERENCE',
          description: 'agent',
          address: wallet.address,
          signature: await wallet.signMessage({ message: token }),
          token,
        }),
      });
      expect(created.status).toBe(201);
      const apiKey = ((await created.json()) as { data: { apiKey: string } }).data.apiKey;

      const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey });
      const completion = await openai.chat.completions.create({
        model: 'upstream-demo',
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 4,
      });
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

      const balance = await fetch(`${state.gatewayUrl}/api/v1/billing/balance`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const body = (await balance.json()) as { diemEpochAllocation: number; balances: { diem: number } };
      expect(body.diemEpochAllocation).toBe(100);
      expect(body.balances.diem).toBeLessThan(100);

      const health = (await (await fetch(`${state.gatewayUrl}/healthz`)).json()) as {
        ok: boolean;
        chain: { ok: boolean };
      };
      expect(health).toMatchObject({ ok: true, chain: { ok: true } });

      // After a restart the stack still follows the wallet it linked: a new stake raises the allocation.
      await stack.stop();
      stack = await startLocalStack({ config, progress: () => {} });
      const ctx = {
        wallet: walletClientFor(chain.client.chain, wallet),
        client: chain.client,
        contracts: chain.contracts,
      };
      await mintDiem(ctx, parseEther('5'));
      await stakeDiem(ctx, parseEther('5'));
      const allocation = async () => {
        const answer = await fetch(`${stack!.state.gatewayUrl}/api/v1/billing/balance`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        return ((await answer.json()) as { diemEpochAllocation: number }).diemEpochAllocation;
      };
      await expect.poll(allocation, { timeout: 20_000, interval: 250 }).toBe(105);
    });
  },
);
