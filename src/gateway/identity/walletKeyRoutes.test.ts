/** The wallet key flow against a real chain: a staked wallet gets a key; replays, bad signatures, no stake are refused. */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Abi, encodeFunctionData, type Hex, maxUint256, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walletClientFor } from '../../chain/clients.ts';
import { setUpDemoWallet } from '../../chain/demo.ts';
import { stakedVvvAbi, vvvAbi } from '../../chain/generated/contracts.ts';
import { startTestChain, type TestChain } from '../../chain/testChain.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { createGateway, gatewayLogger } from '../app.ts';
import { fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';
import { createMemoryNonceStore } from './walletToken.ts';

const domain = 'localhost:8787';

describe('generate_web3_key', () => {
  let chain: TestChain;
  let ledger: Ledger;
  let directory: string;
  let app: ReturnType<typeof createGateway>;
  let staker: ReturnType<typeof privateKeyToAccount>;

  beforeAll(async () => {
    chain = await startTestChain();
    directory = await mkdtemp(join(tmpdir(), 'perdiem-web3key-'));
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
    const demo = await setUpDemoWallet(chain.deployer, chain.client, chain.contracts);
    staker = privateKeyToAccount(demo.privateKey);
    app = createGateway({
      ledger,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      logger: gatewayLogger('silent'),
      walletKeys: {
        tokenSecret: new Uint8Array(32).fill(1),
        nonces: createMemoryNonceStore(),
        domain,
        chainId: chain.anvil.chainId,
        verifyMessage: (args) => chain.client.verifyMessage(args),
        svvvStakeOf: (address) =>
          chain.client.readContract({
            address: chain.contracts.stakedVvv,
            abi: stakedVvvAbi,
            functionName: 'stakedOf',
            args: [address],
          }),
      },
    });
  });
  afterAll(async () => {
    await ledger?.close();
    await chain?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  async function token(): Promise<string> {
    const response = await app.request('/api/v1/api_keys/generate_web3_key');
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: { token: string } }).data.token;
  }

  function post(body: unknown) {
    return app.request('/api/v1/api_keys/generate_web3_key', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function errorOf(response: Response) {
    return ((await response.json()) as { error: { code: string; type: string } }).error;
  }

  it('creates a working key for a wallet with an sVVV stake, linked to the wallet', async () => {
    const issued = await token();
    const signature = await staker.signMessage({ message: issued });
    const response = await post({
      apiKeyType: 'INFERENCE',
      description: 'agent',
      address: staker.address,
      signature,
      token: issued,
    });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: { apiKey: string; apiKeyType: string } };
    expect(data.apiKeyType).toBe('INFERENCE');
    const key = await ledger.authenticate(data.apiKey);
    expect((await ledger.accountByWallet(staker.address))?.id).toBe(key.accountId);

    const balance = await app.request('/api/v1/billing/balance', {
      headers: { authorization: `Bearer ${data.apiKey}` },
    });
    expect(balance.status).toBe(200);
  });

  it('accepts a SIWE message and refuses the same token a second time', async () => {
    const issued = await token();
    const nonce = JSON.parse(Buffer.from(issued.split('.')[0]!, 'base64url').toString()).nonce as string;
    const message = createSiweMessage({
      address: staker.address,
      chainId: chain.anvil.chainId,
      domain,
      nonce,
      uri: `http://${domain}`,
      version: '1',
      issuedAt: new Date(),
    });
    const body = {
      apiKeyType: 'ADMIN',
      description: 'siwe',
      address: staker.address,
      signature: await staker.signMessage({ message }),
      token: issued,
      message,
    };
    expect((await post(body)).status).toBe(201);
    const replay = await post(body);
    expect(replay.status).toBe(401);
    expect((await errorOf(replay)).code).toBe('token_used');
  });

  it('refuses a wallet without sVVV, and does not spend the token', async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    const issued = await token();
    const body = {
      apiKeyType: 'INFERENCE',
      description: 'x',
      address: stranger.address,
      signature: await stranger.signMessage({ message: issued }),
      token: issued,
    };
    const response = await post(body);
    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe('no_svvv_stake');
    expect(await ledger.accountByWallet(stranger.address)).toBeNull();
  });

  it('refuses a signature by another wallet, a forged token and malformed bodies with OpenAI-shaped errors', async () => {
    const issued = await token();
    const impostor = await privateKeyToAccount(generatePrivateKey()).signMessage({ message: issued });
    const cases: [unknown, number, string][] = [
      [
        { apiKeyType: 'INFERENCE', description: 'x', address: staker.address, signature: impostor, token: issued },
        401,
        'invalid_signature',
      ],
      [
        {
          apiKeyType: 'INFERENCE',
          description: 'x',
          address: staker.address,
          signature: impostor,
          token: `${issued}0`,
        },
        401,
        'invalid_token',
      ],
      [
        { apiKeyType: 'INFERENCE', description: 'x', address: 'not-an-address', signature: impostor, token: issued },
        400,
        'invalid_value',
      ],
      [{ apiKeyType: 'ROOT', description: 'x', address: staker.address, signature: impostor, token: issued }, 400, ''],
      [{ apiKeyType: 'INFERENCE', description: 'x', address: staker.address, token: issued }, 400, ''],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      const error = await errorOf(response);
      if (code) expect(error.code).toBe(code);
      expect(typeof error.type).toBe('string');
    }
  });

  it('accepts a contract wallet (EIP-1271) whose owner signed the token', async () => {
    // A test-only wallet contract from the Foundry build (contracts/test/utils/ContractWallet.sol).
    const artifactPath = join(import.meta.dirname, '../../../contracts/out/ContractWallet.sol/ContractWallet.json');
    const artifact = JSON.parse(readFileSync(artifactPath, 'utf8')) as { abi: Abi; bytecode: { object: Hex } };
    const owner = privateKeyToAccount(generatePrivateKey());
    const wait = (hash: Hex) => chain.client.waitForTransactionReceipt({ hash });
    await wait(await chain.deployer.sendTransaction({ to: owner.address, value: parseEther('1') }));
    const ownerWallet = walletClientFor(chain.client.chain, owner);
    const deployed = await wait(
      await ownerWallet.deployContract({
        abi: artifact.abi,
        bytecode: artifact.bytecode.object,
        args: [owner.address],
      }),
    );
    const contractWallet = deployed.contractAddress!;
    const stakeWei = parseEther('10');
    await wait(
      await chain.deployer.writeContract({
        address: chain.contracts.vvv,
        abi: vvvAbi,
        functionName: 'transfer',
        args: [contractWallet, stakeWei],
      }),
    );
    const execute = async (target: Hex, data: Hex) =>
      wait(
        await ownerWallet.writeContract({
          address: contractWallet,
          abi: artifact.abi,
          functionName: 'execute',
          args: [target, data],
        }),
      );
    await execute(
      chain.contracts.vvv,
      encodeFunctionData({ abi: vvvAbi, functionName: 'approve', args: [chain.contracts.stakedVvv, maxUint256] }),
    );
    await execute(
      chain.contracts.stakedVvv,
      encodeFunctionData({ abi: stakedVvvAbi, functionName: 'stake', args: [stakeWei] }),
    );

    const issued = await token();
    const signature = await owner.signMessage({ message: issued });
    const response = await post({
      apiKeyType: 'INFERENCE',
      description: 'safe',
      address: contractWallet,
      signature,
      token: issued,
    });
    expect(response.status).toBe(201);
    expect(await ledger.accountByWallet(contractWallet)).not.toBeNull();

    // The owner's signature does not make the owner's own address (no stake) a valid claimant of the contract's key.
    const again = await token();
    const forOwner = await post({
      apiKeyType: 'INFERENCE',
      description: 'owner',
      address: owner.address,
      signature: await owner.signMessage({ message: again }),
      token: again,
    });
    expect(forOwner.status).toBe(403);
  });
});
