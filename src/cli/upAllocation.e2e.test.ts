/**
 * On-chain allocation end to end: the real stack (`startLocalStack`, what `perdiem up` runs) on an external anvil,
 * a treasury wallet that stakes 10 DIEM and allocates slices to two member wallets with `perdiem allocate`, each
 * member with a key from the wallet key flow, spending its slice through the gateway with the official openai client
 * until it is refused (402). The treasury reallocates mid-epoch; the change shows only from the next epoch. Epochs
 * are crossed by moving anvil's time and the stack's clock together.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { type Address, createTestClient, type Hex, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { stakeVvv } from '../chain/actions.ts';
import { walletClientFor } from '../chain/clients.ts';
import { setUpDemoWallet } from '../chain/demo.ts';
import { diemStakingAbi, vvvAbi } from '../chain/generated/contracts.ts';
import { startTestChain, type TestChain } from '../chain/testChain.ts';
import { type LocalStack, startLocalStack } from './localStack.ts';
import { resolveStackConfig } from './stackConfig.ts';
import { verbRunner } from './testing/verbRunner.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-allocation-'));
const daySeconds = 86_400n;
/** The price set for the test: output tokens only, $0.20 each, so a slice of a few DIEM is a few requests. */
const outputTokenUsd = 0.2;

const perdiem = verbRunner(home);

describe('on-chain allocation through the gateway', { timeout: 300_000 }, () => {
  let chain: TestChain | undefined;
  let stack: LocalStack | undefined;
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  afterAll(async () => {
    await stack?.stop();
    await chain?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  /** Moves anvil to one minute into the next epoch, mines a block there, and the stack's clock with it. */
  async function nextEpoch(): Promise<bigint> {
    const { client, anvil } = chain!;
    const testClient = createTestClient({ chain: client.chain, mode: 'anvil', transport: http(anvil.rpcUrl) });
    const latest = (await client.getBlock({ blockTag: 'latest' })).timestamp;
    const now = BigInt(Math.floor(clock() / 1000));
    const base = latest > now ? latest : now;
    const target = (base / daySeconds + 1n) * daySeconds + 60n;
    await testClient.increaseTime({ seconds: Number(target - base) });
    await testClient.mine({ blocks: 1 });
    const mined = (await client.getBlock({ blockTag: 'latest' })).timestamp;
    offsetMs = Number(mined) * 1000 - Date.now();
    return mined / daySeconds;
  }

  /** A member: gas, VVV and a little sVVV staked (the wallet key flow asks for an sVVV stake), no DIEM. */
  async function fundMember(): Promise<Hex> {
    const { client, deployer, contracts } = chain!;
    const key = generatePrivateKey();
    const account = privateKeyToAccount(key);
    const wait = (hash: Hex) => client.waitForTransactionReceipt({ hash });
    await wait(await deployer.sendTransaction({ to: account.address, value: parseEther('1') }));
    await wait(
      await deployer.writeContract({
        address: contracts.vvv,
        abi: vvvAbi,
        functionName: 'transfer',
        args: [account.address, parseEther('100')],
      }),
    );
    await stakeVvv({ wallet: walletClientFor(client.chain, account), client, contracts }, parseEther('100'));
    return key;
  }

  /** The wallet key flow: sign the gateway's token, get an inference key for the wallet's account. */
  async function walletKey(key: Hex): Promise<string> {
    const gatewayUrl = stack!.state.gatewayUrl;
    const wallet = privateKeyToAccount(key);
    const tokenAnswer = await fetch(`${gatewayUrl}/api/v1/api_keys/generate_web3_key`);
    const { token } = ((await tokenAnswer.json()) as { data: { token: string } }).data;
    const created = await fetch(`${gatewayUrl}/api/v1/api_keys/generate_web3_key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiKeyType: 'INFERENCE',
        description: 'team member',
        address: wallet.address,
        signature: await wallet.signMessage({ message: token }),
        token,
      }),
    });
    expect(created.status).toBe(201);
    return ((await created.json()) as { data: { apiKey: string } }).data.apiKey;
  }

  async function balance(apiKey: string): Promise<{ allocation: number; diem: number; epoch: number }> {
    const answer = await fetch(`${stack!.state.gatewayUrl}/api/v1/billing/balance`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { diemEpochAllocation: number; balances: { diem: number }; epoch: number };
    return { allocation: body.diemEpochAllocation, diem: body.balances.diem, epoch: body.epoch };
  }

  /** Chats until the gateway refuses; returns how many were answered and the refusal's status. */
  async function spendUntilRefused(apiKey: string): Promise<{ answered: number; status: number | undefined }> {
    const openai = new OpenAI({ baseURL: `${stack!.state.gatewayUrl}/v1`, apiKey, maxRetries: 0 });
    const model = stack!.state.models[0]!;
    for (let answered = 0; answered < 60; answered++) {
      try {
        await openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: `Count from ${answered} to 100.` }],
          temperature: 0,
        });
      } catch (error) {
        if (!(error instanceof OpenAI.APIError)) throw error;
        return { answered, status: error.status };
      }
    }
    throw new Error('the gateway never refused');
  }

  /** Spends a whole slice: refused with 402 in the end, at most one token's price left, nothing overspent. */
  async function spendSlice(apiKey: string, sliceDiem: number): Promise<number> {
    await expect.poll(async () => (await balance(apiKey)).allocation, { timeout: 30_000 }).toBe(sliceDiem);
    const { answered, status } = await spendUntilRefused(apiKey);
    expect(status).toBe(402);
    const after = await balance(apiKey);
    expect(after.allocation).toBe(sliceDiem);
    expect(after.diem).toBeGreaterThanOrEqual(0);
    // At most one token's price is left: a quote keeps a few nano-USD of rounding slack (one per priced line).
    expect(after.diem).toBeLessThanOrEqual(outputTokenUsd);
    return answered;
  }

  async function allowanceOnChain(wallet: Address, epoch: bigint): Promise<bigint> {
    const { client, contracts } = chain!;
    return client.readContract({
      address: contracts.diemStaking,
      abi: diemStakingAbi,
      functionName: 'allowanceOf',
      args: [wallet, epoch],
    });
  }

  it('members spend the slices a treasury allocates, and a reallocation shows from the next epoch', async () => {
    chain = await startTestChain();
    const plan = {
      gasWei: parseEther('1'),
      vvvWei: parseEther('5000'),
      stakeVvvWei: parseEther('5000'),
      mintDiemWei: parseEther('10'),
      stakeDiemWei: parseEther('10'),
    };
    const treasuryKey = generatePrivateKey();
    const treasury = (await setUpDemoWallet(chain.deployer, chain.client, chain.contracts, plan, treasuryKey)).address;
    const [aliceKey, bobKey] = [await fundMember(), await fundMember()];
    const [alice, bob] = [privateKeyToAccount(aliceKey).address, privateKeyToAccount(bobKey).address];
    const contractsFile = path.join(home, 'contracts.json');
    writeFileSync(contractsFile, JSON.stringify(chain.contracts));
    const config = resolveStackConfig({ home, port: '0', rpc: chain.anvil.rpcUrl, contracts: contractsFile }, {}, home);
    stack = await startLocalStack({ config, progress: () => {}, clock });
    const model = stack.state.models[0]!;
    // In force from e1 (a price change takes effect at the next epoch boundary), past the step bound with a reason.
    const priced = await perdiem(
      ...['prices', 'set', model, '--input-per-1m', '0', '--output-per-1m', '200000'],
      ...['--override', '--reason', 'a price that makes each request cost a visible slice'],
    );
    expect(priced.err).toBe('');
    // A chain is configured, so the sheet goes in force at e1 only once its hash is anchored for e1.
    const anchored = await perdiem('prices', 'anchor');
    expect(anchored.err).toBe('');
    expect(anchored.code).toBe(0);

    // Epoch e0: the treasury allocates 2 DIEM to alice and 1 DIEM to bob, from e0 + 1.
    for (const [member, amount] of [
      [alice, '2'],
      [bob, '1'],
    ] as const) {
      const set = await perdiem('allocate', 'set', member, amount, '--private-key', treasuryKey);
      expect(set.err).toBe('');
      expect(set.code).toBe(0);
    }
    const listed = JSON.parse((await perdiem('allocate', 'list', '--wallet', treasury, '--json')).out);
    expect(listed.outCurrentWei).toBe('0');
    expect(listed.outNextWei).toBe(parseEther('3').toString());
    const [aliceApi, bobApi, treasuryApi] = [
      await walletKey(aliceKey),
      await walletKey(bobKey),
      await walletKey(treasuryKey),
    ];
    // Nothing for the members in e0: allocations take effect at the next epoch boundary.
    expect((await balance(treasuryApi)).allocation).toBe(10);
    expect((await spendUntilRefused(aliceApi)).status).toBe(402);
    expect((await balance(aliceApi)).allocation).toBe(0);

    // Epoch e1: alice spends 2 DIEM, bob 1 DIEM, each refused beyond its slice; the treasury keeps 10 - 3.
    const e1 = await nextEpoch();
    // The gateway puts the anchored sheet in force once it has read the anchor (it re-reads every 30 s at most).
    const outputUsd = async () => {
      const answer = await fetch(`${stack!.state.gatewayUrl}/v1/models`, {
        headers: { authorization: `Bearer ${aliceApi}` },
      });
      const { data } = (await answer.json()) as {
        data: { id: string; model_spec: { pricing: { output: { usd: number } } } }[];
      };
      return data.find((entry) => entry.id === model)?.model_spec.pricing.output.usd;
    };
    await expect.poll(outputUsd, { timeout: 45_000, interval: 500 }).toBe(200_000);
    expect(await spendSlice(aliceApi, 2)).toBeGreaterThan(0);
    expect(await spendSlice(bobApi, 1)).toBeGreaterThan(0);
    await expect.poll(async () => (await balance(treasuryApi)).allocation, { timeout: 30_000 }).toBe(7);
    expect(await allowanceOnChain(treasury, e1)).toBe(parseEther('7'));

    // Mid-e1 the treasury reallocates: alice 0.5, bob 3. Nothing moves in e1.
    expect((await perdiem('allocate', 'set', alice, '0.5', '--private-key', treasuryKey)).code).toBe(0);
    expect((await perdiem('allocate', 'set', bob, '3', '--private-key', treasuryKey)).code).toBe(0);
    expect((await spendUntilRefused(bobApi)).status).toBe(402);
    expect((await balance(bobApi)).allocation).toBe(1);
    const aliceView = JSON.parse((await perdiem('allocate', 'list', '--wallet', alice, '--json')).out);
    expect(aliceView.in).toEqual([
      { wallet: treasury, currentWei: parseEther('2').toString(), nextWei: parseEther('0.5').toString() },
    ]);

    // Epoch e2: the new slices, and the treasury's own allowance is its stake minus what it allocates.
    const e2 = await nextEpoch();
    expect(e2).toBe(e1 + 1n);
    await spendSlice(aliceApi, 0.5);
    await spendSlice(bobApi, 3);
    await expect.poll(async () => (await balance(treasuryApi)).allocation, { timeout: 30_000 }).toBe(6.5);
    expect(await allowanceOnChain(treasury, e2)).toBe(parseEther('6.5'));
    expect(await allowanceOnChain(alice, e1)).toBe(parseEther('2'));
    expect(await allowanceOnChain(alice, e2)).toBe(parseEther('0.5'));
  });
});
