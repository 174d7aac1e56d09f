/**
 * The DIEM allowance from chain to ledger across short epochs (60 s): refresh at the boundary, no roll-over, a
 * mid-epoch stake counts at once, an unstake lowers only the next epoch, and moving DIEM to a second wallet never
 * backs a second allowance in the same epoch. The ledger's clock is the chain's block time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Address, createTestClient, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../ledger/types.ts';
import {
  type ChainActionError,
  type ChainContext,
  initiateDiemUnstake,
  mintDiem,
  stakeDiem,
  stakeVvv,
  transferDiem,
  withdrawDiem,
} from './actions.ts';
import { type AllowanceSyncDeps, startAllowanceSync, syncAllowance } from './allowanceSync.ts';
import { walletClientFor } from './clients.ts';
import { stakedVvvAbi, vvvAbi } from './generated/contracts.ts';
import { startTestChain, type TestChain } from './testChain.ts';

const epochSeconds = 60;
const nano = (diem: number) => BigInt(diem) * 1_000_000_000n;

describe('DIEM allowance from chain to ledger, 60-second epochs', () => {
  let chain: TestChain;
  let ledger: Ledger;
  let directory: string;
  let nowMs = 0;
  let deps: AllowanceSyncDeps;
  let testClient: ReturnType<typeof createTestClient>;

  async function wallet(
    diemToMint: number,
    vvvToStake = 5000,
  ): Promise<ChainContext & { address: Address; accountId: string }> {
    const account = privateKeyToAccount(generatePrivateKey());
    const wait = (hash: `0x${string}`) => chain.client.waitForTransactionReceipt({ hash });
    await wait(await chain.deployer.sendTransaction({ to: account.address, value: parseEther('1') }));
    await wait(
      await chain.deployer.writeContract({
        address: chain.contracts.vvv,
        abi: vvvAbi,
        functionName: 'transfer',
        args: [account.address, parseEther(String(vvvToStake))],
      }),
    );
    const ctx = {
      wallet: walletClientFor(chain.client.chain, account),
      client: chain.client,
      contracts: chain.contracts,
    };
    await stakeVvv(ctx, parseEther(String(vvvToStake)));
    if (diemToMint > 0) await mintDiem(ctx, parseEther(String(diemToMint)));
    const ledgerAccount = await ledger.createAccount();
    await ledger.linkWallet(ledgerAccount.id, account.address);
    return { ...ctx, address: account.address, accountId: ledgerAccount.id };
  }

  /** Moves chain time to `seconds` into the next epoch and mines a block there. */
  async function nextEpoch(secondsInto = 5) {
    const block = await chain.client.getBlock();
    const nextStart = (Number(block.timestamp) / epochSeconds + 1) | 0;
    const timestamp = nextStart * epochSeconds + secondsInto;
    await testClient.setNextBlockTimestamp({ timestamp: BigInt(timestamp) });
    await testClient.mine({ blocks: 1 });
    await followChainTime();
  }

  async function followChainTime() {
    nowMs = Number((await chain.client.getBlock()).timestamp) * 1000;
  }

  async function available(accountId: string) {
    return (await ledger.balance(accountId)).diem;
  }

  async function spend(accountId: string, amountNano: bigint, id: string) {
    const { reservation } = await ledger.reserve({
      accountId,
      keyId: null,
      idempotencyKey: id,
      model: 'm',
      amountNano,
    });
    const line = { sku: 'm.output', units: 1, unitPriceNano: amountNano, priceUnit: 1, amountNano };
    await ledger.settle({ reservationId: reservation.id, lines: [line], latencyMs: 1 });
  }

  beforeAll(async () => {
    chain = await startTestChain((base) => ({
      ...base,
      diemStaking: { ...base.diemStaking, epochSeconds: BigInt(epochSeconds), cooldownSeconds: BigInt(epochSeconds) },
    }));
    testClient = createTestClient({ mode: 'anvil', chain: chain.client.chain, transport: http(chain.anvil.rpcUrl) });
    directory = await mkdtemp(join(tmpdir(), 'perdiem-allowance-'));
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: () => nowMs, epochSeconds });
    deps = { ledger, client: chain.client, contracts: chain.contracts, clock: () => nowMs, epochSeconds };
    await followChainTime();
  });
  afterAll(async () => {
    await ledger?.close();
    await chain?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('honours a mid-epoch stake at once, keeps an unstaked amount for the rest of the epoch, and refreshes at the boundary without roll-over', async () => {
    const alice = await wallet(10);
    await nextEpoch();
    await stakeDiem(alice, parseEther('5'));
    await followChainTime();
    expect(await syncAllowance(deps, alice)).toBe(nano(5));
    await spend(alice.accountId, nano(1), 'a1');
    expect((await available(alice.accountId)).availableNano).toBe(nano(4));

    // A mid-epoch stake raises this epoch's allowance at once.
    await stakeDiem(alice, parseEther('3'));
    await followChainTime();
    expect(await syncAllowance(deps, alice)).toBe(nano(8));
    expect((await available(alice.accountId)).availableNano).toBe(nano(7));

    // An unstake lowers only the next epoch: this epoch keeps the highest stake it saw.
    await initiateDiemUnstake(alice, parseEther('6'));
    await followChainTime();
    expect(await syncAllowance(deps, alice)).toBe(nano(8));
    expect((await available(alice.accountId)).availableNano).toBe(nano(7));

    // Next epoch: the allowance is the 2 DIEM still staked; the 7 unused dollars do not roll over.
    await nextEpoch();
    expect(await syncAllowance(deps, alice)).toBe(nano(2));
    expect(await available(alice.accountId)).toMatchObject({
      allowanceNano: nano(2),
      spentNano: 0n,
      availableNano: nano(2),
    });
  });

  it('never backs a second allowance with the same tokens moved to another wallet within the epoch', async () => {
    const alice = await wallet(4);
    const bob = await wallet(0);
    await nextEpoch();
    await stakeDiem(alice, parseEther('4'));
    await followChainTime();
    expect(await syncAllowance(deps, alice)).toBe(nano(4));

    // The tokens cool down for at least an epoch: they cannot leave alice's stake this epoch.
    await initiateDiemUnstake(alice, parseEther('4'));
    const early = await withdrawDiem(alice).catch((error: unknown) => error);
    expect((early as ChainActionError).errorName).toBe('DiemStakingCooldownActive');

    // Next epoch they can move; bob stakes them. Alice had nothing staked in this epoch, so only bob has an allowance.
    await nextEpoch(30);
    await withdrawDiem(alice);
    await transferDiem(alice, bob.address, parseEther('4'));
    await stakeDiem(bob, parseEther('4'));
    await followChainTime();
    const aliceNano = await syncAllowance(deps, alice);
    const bobNano = await syncAllowance(deps, bob);
    expect(aliceNano).toBe(0n);
    expect(bobNano).toBe(nano(4));
    expect(aliceNano + bobNano).toBeLessThanOrEqual(nano(4));
  });

  it('picks up a stake from its event without being asked', async () => {
    const carol = await wallet(3);
    await followChainTime();
    const sync = startAllowanceSync(deps, [carol], {
      intervalMs: 60_000,
      eventPollingIntervalMs: 100,
      onError: (error) => {
        throw error;
      },
    });
    try {
      await sync.ready;
      expect((await available(carol.accountId)).allowanceNano).toBe(0n);
      await stakeDiem(carol, parseEther('3'));
      await followChainTime();
      await expect.poll(async () => (await available(carol.accountId)).allowanceNano, { timeout: 5_000 }).toBe(nano(3));
    } finally {
      sync.stop();
    }
  });

  it('counts a stake only after the configured confirmations', async () => {
    const dave = await wallet(2);
    await nextEpoch();
    const confirmed = { ...deps, confirmations: 2 };
    await stakeDiem(dave, parseEther('2'));
    await followChainTime();
    expect(await syncAllowance(confirmed, dave)).toBe(0n);
    await testClient.mine({ blocks: 1 });
    expect(await syncAllowance(confirmed, dave)).toBe(0n);
    await testClient.mine({ blocks: 1 });
    expect(await syncAllowance(confirmed, dave)).toBe(nano(2));
  });

  it('splits a daily USD capacity pro rata by sVVV stake in legacy mode, rounding down', async () => {
    const erin = await wallet(0, 1000);
    const frank = await wallet(0, 3000);
    const totalWei = await chain.client.readContract({
      address: chain.contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'totalStaked',
    });
    const legacy = { ...deps, allocation: { kind: 'legacy' as const, dailyCapacityNano: nano(100) } };
    const erinNano = await syncAllowance(legacy, erin);
    const frankNano = await syncAllowance(legacy, frank);
    expect(erinNano).toBe((nano(100) * parseEther('1000')) / totalWei);
    expect(frankNano).toBe((nano(100) * parseEther('3000')) / totalWei);
    expect(frankNano / erinNano).toBe(3n);
    expect((await available(frank.accountId)).allowanceNano).toBe(frankNano);
  });
});
