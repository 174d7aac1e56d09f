/**
 * The DIEM allowance from chain to ledger across short epochs (60 s): refresh at the boundary, no roll-over, a
 * mid-epoch stake counts at once, an unstake lowers only the next epoch, and moving DIEM to a second wallet never
 * backs a second allowance in the same epoch — also not with confirmations across midnight. An account's allowance is
 * the sum over its wallets. Legacy shares are fixed per epoch at one block, the same for a restarted or second feed
 * (the block is claimed in the ledger). The ledger's clock is the chain's block
 * time unless a test moves it alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Address, createTestClient, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../core/epoch.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../ledger/types.ts';
import {
  type ChainActionError,
  type ChainContext,
  initiateDiemUnstake,
  initiateVvvUnstake,
  mintDiem,
  setAllocation,
  stakeDiem,
  stakeVvv,
  transferDiem,
  withdrawDiem,
} from './actions.ts';
import {
  type AllowanceSyncDeps,
  type LegacySnapshots,
  startAllowanceSync,
  syncAllowance,
  syncWallets,
} from './allowanceSync.ts';
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

  /** Every wallet made here: all of the chain's sVVV stakers (legacy shares are of their total). */
  const stakers: { accountId: string; address: Address }[] = [];

  /** A funded wallet with `vvvToStake` sVVV and `diemToMint` DIEM, linked to a new account or to `accountId`. */
  async function wallet(
    diemToMint: number,
    vvvToStake = 5000,
    accountId?: string,
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
    const owner = accountId ?? (await ledger.createAccount()).id;
    await ledger.linkWallet(owner, account.address);
    stakers.push({ accountId: owner, address: account.address });
    return { ...ctx, address: account.address, accountId: owner };
  }

  /** The first second of the epoch after the latest block's, in unix seconds. */
  async function nextEpochStartSeconds(): Promise<number> {
    const block = await chain.client.getBlock();
    return (Math.floor(Number(block.timestamp) / epochSeconds) + 1) * epochSeconds;
  }

  /** Mines the next block at `timestamp` (unix seconds). */
  async function mineAt(timestamp: number) {
    await testClient.setNextBlockTimestamp({ timestamp: BigInt(timestamp) });
    await testClient.mine({ blocks: 1 });
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

  it('feeds allocations from the next epoch: the members gain what the delegator gives up, the sum stays its stake', async () => {
    const treasury = await wallet(10);
    await stakeDiem(treasury, parseEther('10'));
    const [member, other] = [await wallet(0, 100), await wallet(0, 100)];
    await setAllocation(treasury, member.address, parseEther('4'));
    await setAllocation(treasury, other.address, parseEther('1'));
    await followChainTime();
    const all = [treasury, member, other];
    expect(await syncWallets(deps, all)).toEqual([nano(10), 0n, 0n]);
    await nextEpoch();
    expect(await syncWallets(deps, all)).toEqual([nano(5), nano(4), nano(1)]);
    expect((await available(member.accountId)).availableNano).toBe(nano(4));
    // Revoked mid-epoch: the member keeps its slice until the boundary.
    await setAllocation(treasury, member.address, 0n);
    await followChainTime();
    expect(await syncWallets(deps, all)).toEqual([nano(5), nano(4), nano(1)]);
    await nextEpoch();
    expect(await syncWallets(deps, all)).toEqual([nano(9), 0n, nano(1)]);
  });

  it('tracks the member and the delegator an AllocationSet event names, linked after the feed started', async () => {
    const sync = startAllowanceSync(deps, [], {
      intervalMs: 60_000,
      eventPollingIntervalMs: 100,
      onError: (error) => {
        throw error;
      },
    });
    try {
      await sync.ready;
      const treasury = await wallet(2);
      const member = await wallet(0, 100);
      // Linked in the ledger (as another process would), unknown to this feed until an event names them.
      expect(await sync.refresh(member.accountId)).toBe(false);
      await stakeDiem(treasury, parseEther('2'));
      await setAllocation(treasury, member.address, parseEther('0.5'));
      await followChainTime();
      await expect.poll(() => sync.refresh(member.accountId), { timeout: 5_000 }).toBe(true);
      expect(await sync.refresh(treasury.accountId)).toBe(true);
      await nextEpoch();
      await sync.refresh(member.accountId);
      await sync.refresh(treasury.accountId);
      expect((await available(member.accountId)).allowanceNano).toBe(nano(1) / 2n);
      expect((await available(treasury.accountId)).allowanceNano).toBe(nano(3) / 2n);
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

  it('never credits DIEM unstaked in the last blocks before midnight, with confirmations: one DIEM backs $1, not $2', async () => {
    const alice = await wallet(4);
    const bob = await wallet(0);
    await nextEpoch();
    await stakeDiem(alice, parseEther('4'));
    const midnight = await nextEpochStartSeconds();

    // Alice unstakes 30 s before midnight; the next block is the new epoch's first. With 2 confirmations the confirmed
    // block is the one before her unstake, where the chain still projects her 4 DIEM into the new epoch.
    await testClient.setNextBlockTimestamp({ timestamp: BigInt(midnight - 30) });
    await initiateDiemUnstake(alice, parseEther('4'));
    await mineAt(midnight + 1);
    await followChainTime();
    const confirmed = { ...deps, confirmations: 2 };
    const aliceNano = await syncAllowance(confirmed, alice);

    // Her cooldown ends 30 s into the new epoch: the same 4 DIEM are withdrawn, moved to bob and staked by him.
    await mineAt(midnight + 31);
    await withdrawDiem(alice);
    await transferDiem(alice, bob.address, parseEther('4'));
    await stakeDiem(bob, parseEther('4'));
    await testClient.mine({ blocks: 2 });
    await followChainTime();
    expect(epochAt(nowMs, epochSeconds)).toBe(midnight / epochSeconds);
    const bobNano = await syncAllowance(confirmed, bob);
    expect(bobNano).toBe(nano(4));
    expect(aliceNano + bobNano).toBeLessThanOrEqual(nano(4));
    expect(aliceNano).toBe(0n);
  });

  it('credits 0 for an epoch the chain has not reached, then what the chain says once it has', async () => {
    const carol = await wallet(3);
    await nextEpoch();
    await stakeDiem(carol, parseEther('3'));
    await followChainTime();
    expect(await syncAllowance(deps, carol)).toBe(nano(3));

    // The ledger's clock passes midnight; the chain mines nothing.
    const midnight = await nextEpochStartSeconds();
    nowMs = (midnight + 1) * 1000;
    expect(await syncAllowance(deps, carol)).toBe(0n);
    expect(await syncAllowance({ ...deps, confirmations: 2 }, carol)).toBe(0n);
    expect((await available(carol.accountId)).allowanceNano).toBe(0n);

    // A block in the new epoch: the chain's word, the stake carried over.
    await mineAt(midnight + 2);
    expect(await syncAllowance(deps, carol)).toBe(nano(3));
    expect((await available(carol.accountId)).allowanceNano).toBe(nano(3));
  });

  it('asks a chain it runs itself to mine when the head is behind the epoch, and only then', async () => {
    const dan = await wallet(2);
    await nextEpoch();
    await stakeDiem(dan, parseEther('2'));
    const midnight = await nextEpochStartSeconds();
    nowMs = (midnight + 1) * 1000;
    let asked = 0;
    const local = {
      ...deps,
      advanceChain: async () => {
        asked += 1;
        await mineAt(midnight + 1);
      },
    };
    expect(await syncAllowance(local, dan)).toBe(nano(2));
    expect(await syncAllowance(local, dan)).toBe(nano(2));
    expect(asked).toBe(1);
  });

  it("credits an account the sum of its wallets; one wallet's unstake lowers only the next epoch's sum", async () => {
    const main = await wallet(5);
    const second = await wallet(3, 5000, main.accountId);
    await nextEpoch();
    await stakeDiem(main, parseEther('5'));
    await stakeDiem(second, parseEther('3'));
    await followChainTime();
    // Started with no wallet: it finds both (and every other) in the ledger.
    const sync = startAllowanceSync(deps, [], {
      intervalMs: 60_000,
      onError: (error) => {
        throw error;
      },
    });
    try {
      await sync.ready;
      expect((await available(main.accountId)).allowanceNano).toBe(nano(8));
      // More than either wallet backs alone.
      await spend(main.accountId, nano(6), 'both-wallets');

      await initiateDiemUnstake(second, parseEther('3'));
      await followChainTime();
      await sync.syncNow();
      expect(await available(main.accountId)).toMatchObject({ allowanceNano: nano(8), availableNano: nano(2) });

      await nextEpoch();
      await sync.syncNow();
      expect(await available(main.accountId)).toMatchObject({ allowanceNano: nano(5), availableNano: nano(5) });
    } finally {
      sync.stop();
    }
  });

  it('reads every legacy share at one block per epoch: an unstake mid-epoch raises no other share', async () => {
    const erin = await wallet(0, 1000);
    const frank = await wallet(0, 3000);
    await nextEpoch();
    const capacityNano = nano(100);
    const legacy = { ...deps, allocation: { kind: 'legacy' as const, dailyCapacityNano: capacityNano } };
    const sum = (values: bigint[]) => values.reduce((total, value) => total + value, 0n);
    const snapshots: LegacySnapshots = new Map();
    const before = await syncWallets(legacy, stakers, snapshots);
    const erinAt = stakers.findIndex((staker) => staker.address === erin.address);
    const frankAt = stakers.findIndex((staker) => staker.address === frank.address);
    // Every sVVV staker is here: the shares are the whole capacity, less what rounding down keeps.
    expect(sum(before)).toBeLessThanOrEqual(capacityNano);
    expect(sum(before)).toBeGreaterThan(capacityNano - BigInt(stakers.length));
    await spend(erin.accountId, before[erinAt]!, 'erin-share');

    // Frank unstakes all his sVVV, and a new wallet (the last staker) stakes. Read at the head, erin's share would
    // rise at once.
    await initiateVvvUnstake(frank, parseEther('3000'));
    await wallet(0, 2000);
    await followChainTime();
    const svvv = { address: chain.contracts.stakedVvv, abi: stakedVvvAbi } as const;
    const erinWei = await chain.client.readContract({ ...svvv, functionName: 'stakedOf', args: [erin.address] });
    const totalWei = await chain.client.readContract({ ...svvv, functionName: 'totalStaked' });
    const erinAtHead = (capacityNano * erinWei) / totalWei;
    expect(erinAtHead).toBeGreaterThan(before[erinAt]!);

    // The snapshot holds for the epoch: no share moves, the new stake counts from the next epoch.
    const during = await syncWallets(legacy, stakers, snapshots);
    expect(during.slice(0, before.length)).toEqual(before);
    expect(during.at(-1)).toBe(0n);
    expect(sum(during)).toBeLessThanOrEqual(capacityNano);
    expect((await available(erin.accountId)).availableNano).toBe(0n);

    // Next epoch, with 2 confirmations: nothing until a block in the epoch is confirmed, then the new shares.
    await nextEpoch();
    const confirmed = { ...legacy, confirmations: 2 };
    expect(sum(await syncWallets(confirmed, stakers, snapshots))).toBe(0n);
    await testClient.mine({ blocks: 2 });
    const next = await syncWallets(confirmed, stakers, snapshots);
    expect(next[frankAt]).toBe(0n);
    expect(next[erinAt]).toBe(erinAtHead);
    expect(next.at(-1)).toBeGreaterThan(0n);
    expect(sum(next)).toBeLessThanOrEqual(capacityNano);
    expect(sum(next)).toBeGreaterThan(capacityNano - BigInt(stakers.length));
  });

  it("reads a legacy epoch at the first feed's block after a restart or in another process: no share rises after an unstake", async () => {
    const gina = await wallet(0, 1000);
    const hank = await wallet(0, 3000);
    await nextEpoch();
    const capacityNano = nano(100);
    const legacy = { ...deps, allocation: { kind: 'legacy' as const, dailyCapacityNano: capacityNano } };
    const options = {
      intervalMs: 60_000,
      onError: (error: unknown) => {
        throw error;
      },
    };
    const accounts = [...new Set(stakers.map((staker) => staker.accountId))];
    const allowances = async () =>
      Promise.all(accounts.map(async (accountId) => (await available(accountId)).allowanceNano));

    const first = startAllowanceSync(legacy, [], options);
    await first.ready;
    first.stop();
    const before = await allowances();
    const ginaBefore = before[accounts.indexOf(gina.accountId)]!;
    expect(ginaBefore).toBeGreaterThan(0n);

    // Hank unstakes all his sVVV mid-epoch: read at the head, gina's share would rise.
    await initiateVvvUnstake(hank, parseEther('3000'));
    await testClient.mine({ blocks: 1 });
    await followChainTime();
    const svvv = { address: chain.contracts.stakedVvv, abi: stakedVvvAbi } as const;
    const ginaWei = await chain.client.readContract({ ...svvv, functionName: 'stakedOf', args: [gina.address] });
    const totalWei = await chain.client.readContract({ ...svvv, functionName: 'totalStaked' });
    expect((capacityNano * ginaWei) / totalWei).toBeGreaterThan(ginaBefore);

    // A second process over the same ledger file starts its own feed, with no memory of the first one's snapshot.
    const other = openSqliteLedger({
      path: join(directory, 'ledger.sqlite'),
      clock: () => nowMs,
      epochSeconds,
      backgroundCheckpoints: false,
    });
    try {
      const second = startAllowanceSync({ ...legacy, ledger: other }, [], options);
      await second.ready;
      second.stop();
      expect(await allowances()).toEqual(before);
      expect((await available(hank.accountId)).allowanceNano).toBeGreaterThan(0n);
    } finally {
      await other.close();
    }
  });
});
