import { type Address, createTestClient, getAddress, type Hex, http, zeroAddress } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  burnDiem,
  type ChainContext,
  initiateDiemUnstake,
  initiateVvvUnstake,
  mintDiem,
  quoteMint,
  setAllocation,
  stakeDiem,
  stakeVvv,
  transferDiem,
  transferSvvv,
  withdrawDiem,
  withdrawVvv,
} from '../actions.ts';
import { anvilMnemonic } from '../anvil.ts';
import { chainFor, publicClientFor } from '../clients.ts';
import { applyAnnualEmission, cancelAnnualEmission, proposeAnnualEmission } from '../emissions.ts';
import { stakedVvvAbi } from '../generated/contracts.ts';
import { receiptTimeoutMs } from '../limits.ts';
import { startTestChain, type TestChain } from '../testChain.ts';
import { ReorgTooDeepError } from './errors.ts';
import type { ChainEvent } from './events.ts';
import { type FollowerConfig, followOnce, startFollower } from './follower.ts';
import type { FollowerBatch, FollowerStore } from './store.ts';
import { postgresStoreHarness, type StoreHarness, sqliteStoreHarness, type TestDatabase } from './testing.ts';

const WAD = 10n ** 18n;
const daySeconds = 86_400;
const other = mnemonicToAccount(anvilMnemonic, { addressIndex: 1 }).address;
const third = mnemonicToAccount(anvilMnemonic, { addressIndex: 2 }).address;

/** What a test compares: an event without its position in the chain. */
type Expected = Pick<ChainEvent, 'kind' | 'account' | 'counterparty' | 'amountWei'> & { txHash: Hex };

const harnesses: StoreHarness[] = [sqliteStoreHarness, await postgresStoreHarness()];

for (const harness of harnesses) {
  describe.skipIf(harness.skipReason !== null)(`chain follower on ${harness.name}`, () => {
    let chain: TestChain;
    let ctx: ChainContext;
    let me: Address;
    let database: TestDatabase;
    let store: FollowerStore;
    let config: FollowerConfig;

    beforeEach(async () => {
      chain = await startTestChain();
      ctx = { wallet: chain.deployer, client: chain.client, contracts: chain.contracts };
      me = chain.deployer.account.address;
      database = harness.create();
      store = await database.open();
      const fromBlock = (await chain.client.getBlockNumber({ cacheTime: 0 })) + 1n;
      config = { chainId: chain.anvil.chainId, contracts: chain.contracts, fromBlock, confirmations: 0 };
    });

    afterEach(async () => {
      await store.close();
      await database.cleanup();
      await chain.stop();
    });

    const testClient = () =>
      createTestClient({
        chain: chainFor(chain.anvil.chainId, chain.anvil.rpcUrl),
        mode: 'anvil',
        transport: http(chain.anvil.rpcUrl),
      });

    /**
     * Reverts to a snapshot. viem's receipt waiting watches for block numbers above the last one it saw, so the
     * holder's actions get a fresh client once the chain is shorter.
     */
    async function revertTo(id: Hex): Promise<void> {
      await testClient().revert({ id });
      ctx = { ...ctx, client: publicClientFor(chainFor(chain.anvil.chainId, chain.anvil.rpcUrl)) };
    }

    /** Every stored event of the chain, oldest first. */
    async function allEvents(from: FollowerStore = store): Promise<ChainEvent[]> {
      const events: ChainEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await from.history({ chainId: config.chainId, limit: 7, cursor });
        events.push(...page.events);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return events.reverse();
    }

    const summary = (events: ChainEvent[]): Expected[] =>
      events.map(({ kind, account, counterparty, amountWei, txHash }) => ({
        kind,
        account,
        counterparty,
        amountWei,
        txHash,
      }));

    /** stake VVV → mint → stake DIEM → transfer → unstake both → burn → withdraw both → claim rewards. */
    async function runSequence(): Promise<Expected[]> {
      const stakedVvv = getAddress(chain.contracts.stakedVvv);
      const diemStaking = getAddress(chain.contracts.diemStaking);
      const e = (
        kind: Expected['kind'],
        txHash: Hex,
        amountWei: bigint,
        account: Address = me,
        counterparty: Address | null = null,
      ): Expected => ({ kind, account, counterparty, amountWei, txHash });
      const staked = await stakeVvv(ctx, 10_000n * WAD);
      const minted = await mintDiem(ctx, 10n * WAD);
      const diemStaked = await stakeDiem(ctx, 4n * WAD);
      const transferred = await transferDiem(ctx, other, 1n * WAD);
      const diemUnstaking = await initiateDiemUnstake(ctx, 2n * WAD);
      const vvvUnstaking = await initiateVvvUnstake(ctx, 100n * WAD);
      const burned = await burnDiem(ctx, 3n * WAD);
      await testClient().increaseTime({ seconds: 8 * daySeconds });
      await testClient().mine({ blocks: 1 });
      const diemWithdrawn = await withdrawDiem(ctx);
      const vvvWithdrawn = await withdrawVvv(ctx);
      const claimed = await chain.deployer.writeContract({
        address: chain.contracts.stakedVvv,
        abi: stakedVvvAbi,
        functionName: 'claimRewards',
      });
      const receipt = await chain.client.waitForTransactionReceipt({ hash: claimed, timeout: receiptTimeoutMs });
      // Rewards depend on elapsed time: take the amount from the VVV minted to the holder.
      const rewardLog = receipt.logs.find((log) => log.address.toLowerCase() === chain.contracts.vvv.toLowerCase());
      const rewardWei = BigInt(rewardLog?.data ?? '0x0');
      expect(rewardWei).toBeGreaterThan(0n);
      return [
        e('stakedVvv.Staked', staked, 10_000n * WAD),
        e('vvv.Transfer', staked, 10_000n * WAD, me, stakedVvv),
        e('stakedVvv.DiemMinted', minted, 10n * WAD),
        e('diem.Transfer', minted, 10n * WAD, zeroAddress, me),
        e('diemStaking.Staked', diemStaked, 4n * WAD),
        e('diem.Transfer', diemStaked, 4n * WAD, me, diemStaking),
        e('diem.Transfer', transferred, 1n * WAD, me, other),
        e('diemStaking.UnstakeInitiated', diemUnstaking, 2n * WAD),
        e('stakedVvv.UnstakeInitiated', vvvUnstaking, 100n * WAD),
        e('stakedVvv.DiemBurned', burned, 3n * WAD),
        e('diem.Transfer', burned, 3n * WAD, me, zeroAddress),
        e('diemStaking.Withdrawn', diemWithdrawn, 2n * WAD),
        e('diem.Transfer', diemWithdrawn, 2n * WAD, diemStaking, me),
        e('stakedVvv.Withdrawn', vvvWithdrawn, 100n * WAD),
        e('vvv.Transfer', vvvWithdrawn, 100n * WAD, stakedVvv, me),
        e('stakedVvv.RewardsClaimed', claimed, rewardWei),
        e('vvv.Transfer', claimed, rewardWei, zeroAddress, me),
      ];
    }

    it('records exactly the events of a stake → mint → stake → transfer → unstake → burn sequence', async () => {
      const quoteSvvvWei = await quoteMint(ctx, 10n * WAD);
      const expected = await runSequence();
      const result = await followOnce({ client: chain.client, store }, config);
      const events = await allEvents();
      expect(summary(events)).toEqual(expected);
      expect(result.eventsAdded).toBe(expected.length);

      const minted = events.find((event) => event.kind === 'stakedVvv.DiemMinted');
      expect(minted?.details.svvvLockedWei).toBe(quoteSvvvWei);
      const diemStaked = events.find((event) => event.kind === 'diemStaking.Staked');
      expect(diemStaked?.details.stakedWei).toBe(4n * WAD);
      for (const event of events) {
        const block = await chain.client.getBlock({ blockNumber: event.blockNumber });
        expect(event.blockHash).toBe(block.hash);
        expect(event.blockTimestampSeconds).toBe(block.timestamp);
        expect(event.chainId).toBe(chain.anvil.chainId);
      }

      // By account (sender or recipient), newest first, and by kind.
      const ofOther = await store.history({ chainId: config.chainId, account: other.toLowerCase() as Address });
      expect(summary(ofOther.events)).toEqual(expected.filter((event) => event.counterparty === other));
      const burns = await store.history({ chainId: config.chainId, account: me, kinds: ['stakedVvv.DiemBurned'] });
      expect(burns.events.map((event) => event.amountWei)).toEqual([3n * WAD]);
      const mine = await store.history({ chainId: config.chainId, account: me, limit: 500 });
      expect(mine.events.length).toBe(events.length);
      expect(mine.nextCursor).toBeNull();

      // A second poll with nothing new adds nothing.
      expect((await followOnce({ client: chain.client, store }, config)).eventsAdded).toBe(0);
    });

    it('records sVVV transfers between holders and the emission-rate proposals, cancellations and changes', async () => {
      const delaySeconds = 2 * daySeconds;
      const staked = await stakeVvv(ctx, 1_000n * WAD);
      const sent = await transferSvvv(ctx, other, 250n * WAD);
      const firstProposal = await proposeAnnualEmission(ctx, 12_000_000n * WAD);
      const cancelled = await cancelAnnualEmission(ctx);
      const proposed = await proposeAnnualEmission(ctx, 11_000_000n * WAD);
      const proposedAt = (await chain.client.getTransactionReceipt({ hash: proposed })).blockNumber;
      const effectiveAt = (await chain.client.getBlock({ blockNumber: proposedAt })).timestamp + BigInt(delaySeconds);
      await testClient().increaseTime({ seconds: delaySeconds });
      await testClient().mine({ blocks: 1 });
      const applied = await applyAnnualEmission(ctx);
      await followOnce({ client: chain.client, store }, config);

      const events = await allEvents();
      // Stake's Transfer(0, me) is not a row: stakedVvv.Staked says the same.
      expect(summary(events)).toEqual([
        { kind: 'stakedVvv.Staked', account: me, counterparty: null, amountWei: 1_000n * WAD, txHash: staked },
        {
          kind: 'vvv.Transfer',
          account: me,
          counterparty: getAddress(chain.contracts.stakedVvv),
          amountWei: 1_000n * WAD,
          txHash: staked,
        },
        { kind: 'stakedVvv.Transfer', account: me, counterparty: other, amountWei: 250n * WAD, txHash: sent },
        {
          kind: 'stakedVvv.AnnualEmissionProposed',
          account: zeroAddress,
          counterparty: null,
          amountWei: 12_000_000n * WAD,
          txHash: firstProposal,
        },
        {
          kind: 'stakedVvv.AnnualEmissionCancelled',
          account: zeroAddress,
          counterparty: null,
          amountWei: 12_000_000n * WAD,
          txHash: cancelled,
        },
        {
          kind: 'stakedVvv.AnnualEmissionProposed',
          account: zeroAddress,
          counterparty: null,
          amountWei: 11_000_000n * WAD,
          txHash: proposed,
        },
        {
          kind: 'stakedVvv.AnnualEmissionSet',
          account: zeroAddress,
          counterparty: null,
          amountWei: 11_000_000n * WAD,
          txHash: applied,
        },
      ]);
      expect(events[5]?.details).toEqual({ effectiveAt });
      expect(events[6]?.details).toEqual({ previousAnnualEmissionWei: 10_000_000n * WAD });

      // The receiver sees the transfer in its history; the rate changes are found by kind.
      const ofOther = await store.history({ chainId: config.chainId, account: other });
      expect(ofOther.events.map((event) => event.txHash)).toEqual([sent]);
      const changes = await store.history({ chainId: config.chainId, kinds: ['stakedVvv.AnnualEmissionSet'] });
      expect(changes.events.map((event) => event.txHash)).toEqual([applied]);
    });

    it('records allocations: set, changed and revoked, found from the delegator and from the member', async () => {
      await stakeVvv(ctx, 10_000n * WAD);
      await mintDiem(ctx, 10n * WAD);
      await stakeDiem(ctx, 10n * WAD);
      const epoch = (await chain.client.getBlock()).timestamp / BigInt(daySeconds);
      const toOther = await setAllocation(ctx, other, 4n * WAD);
      const toThird = await setAllocation(ctx, third, 3n * WAD);
      const changed = await setAllocation(ctx, other, 6n * WAD);
      const revoked = await setAllocation(ctx, third, 0n);
      await followOnce({ client: chain.client, store }, config);

      const allocations = await store.history({ chainId: config.chainId, kinds: ['diemStaking.AllocationSet'] });
      const row = (txHash: Hex, member: Address, amountWei: bigint) => ({
        kind: 'diemStaking.AllocationSet',
        account: me,
        counterparty: member,
        amountWei,
        txHash,
      });
      expect(summary(allocations.events)).toEqual([
        row(revoked, third, 0n),
        row(changed, other, 6n * WAD),
        row(toThird, third, 3n * WAD),
        row(toOther, other, 4n * WAD),
      ]);
      const next = epoch + 1n;
      expect(allocations.events.map((event) => event.details)).toEqual([
        { effectiveEpoch: next, delegatorOutWei: 6n * WAD, memberInWei: 0n },
        { effectiveEpoch: next, delegatorOutWei: 9n * WAD, memberInWei: 6n * WAD },
        { effectiveEpoch: next, delegatorOutWei: 7n * WAD, memberInWei: 3n * WAD },
        { effectiveEpoch: next, delegatorOutWei: 4n * WAD, memberInWei: 4n * WAD },
      ]);
      // The member finds its allocations in its own history.
      const ofThird = await store.history({ chainId: config.chainId, account: third });
      expect(ofThird.events.map((event) => event.txHash)).toEqual([revoked, toThird]);
    });

    it('resumes after a stop mid-way with no gap and no duplicate', async () => {
      const firstHalf = [await stakeVvv(ctx, 1_000n * WAD), await mintDiem(ctx, 1n * WAD)];
      for (let i = 0; i < 4; i++) await transferDiem(ctx, other, WAD / 10n);
      // Small batches; the third commit "crashes" the process, which never reaches the store.
      let commits = 0;
      const crashing: FollowerStore = {
        ...store,
        commit: async (batch: FollowerBatch) => {
          commits += 1;
          if (commits === 3) throw new Error('killed');
          return store.commit(batch);
        },
      };
      await expect(
        followOnce({ client: chain.client, store: crashing }, { ...config, logBatchBlocksMax: 2 }),
      ).rejects.toThrow('killed');
      const partial = await allEvents();
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(8);
      await store.close();

      const secondHalf = [await transferDiem(ctx, third, WAD / 10n), await burnDiem(ctx, WAD / 10n)];
      store = await database.open();
      await followOnce({ client: chain.client, store }, { ...config, logBatchBlocksMax: 2 });
      const events = await allEvents();
      // Oracle: every tracked log the node has, in order.
      const keys = events.map((event) => `${event.txHash}:${event.logIndex}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(events.length).toBe(2 + 2 + 4 + 1 + 2);
      const txs = [...new Set(events.map((event) => event.txHash))];
      expect(txs[0]).toBe(firstHalf[0]);
      expect(txs.slice(-2)).toEqual(secondHalf);
      const numbers = events.map((event) => [event.blockNumber, event.logIndex] as const);
      const sorted = [...numbers].sort(([a, i], [b, j]) => (a === b ? i - j : a < b ? -1 : 1));
      expect(numbers).toEqual(sorted);
    });

    it('drops orphaned events and records the new branch after a reorg', async () => {
      await stakeVvv(ctx, 1_000n * WAD);
      await mintDiem(ctx, 2n * WAD);
      const snapshot = await testClient().snapshot();
      const orphan = await transferDiem(ctx, other, WAD);
      await testClient().mine({ blocks: 2 });
      await followOnce({ client: chain.client, store }, config);
      expect((await allEvents()).some((event) => event.txHash === orphan)).toBe(true);
      const headBefore = await chain.client.getBlockNumber({ cacheTime: 0 });

      await revertTo(snapshot);
      const replacement = await transferDiem(ctx, third, WAD / 2n);
      await testClient().mine({ blocks: 3 });
      expect(await chain.client.getBlockNumber({ cacheTime: 0 })).toBeGreaterThan(headBefore);

      const result = await followOnce({ client: chain.client, store }, config);
      expect(result.reorgs).toHaveLength(1);
      expect(result.reorgs[0]?.removedEvents).toBe(1);
      const events = await allEvents();
      expect(events.some((event) => event.txHash === orphan)).toBe(false);
      const transfer = events.filter((event) => event.txHash === replacement);
      expect(summary(transfer)).toEqual([
        { kind: 'diem.Transfer', account: me, counterparty: third, amountWei: WAD / 2n, txHash: replacement },
      ]);
      for (const event of events) {
        expect((await chain.client.getBlock({ blockNumber: event.blockNumber })).hash).toBe(event.blockHash);
      }
      expect(events).toHaveLength(4 + 1);
    });

    it('repairs a reorg that shortens the chain below the cursor', async () => {
      await stakeVvv(ctx, 1_000n * WAD);
      const snapshot = await testClient().snapshot();
      await mintDiem(ctx, 2n * WAD);
      await testClient().mine({ blocks: 3 });
      await followOnce({ client: chain.client, store }, config);
      expect(await allEvents()).toHaveLength(4);
      await revertTo(snapshot);
      const result = await followOnce({ client: chain.client, store }, config);
      expect(result.reorgs[0]?.removedEvents).toBe(2);
      expect((await allEvents()).map((event) => event.kind)).toEqual(['stakedVvv.Staked', 'vvv.Transfer']);
    });

    it('stops with ReorgTooDeepError on a reorg deeper than reorgDepthMax', async () => {
      const shallow = { ...config, reorgDepthMax: 3 };
      await stakeVvv(ctx, 1_000n * WAD);
      await testClient().mine({ blocks: 4 });
      const snapshot = await testClient().snapshot();
      await stakeVvv(ctx, 5n * WAD);
      await testClient().mine({ blocks: 4 });
      await followOnce({ client: chain.client, store }, shallow);
      const before = await allEvents();

      await revertTo(snapshot);
      await stakeVvv(ctx, 7n * WAD); // a different first block, so every block above the snapshot changes
      await testClient().mine({ blocks: 6 });
      const error = await followOnce({ client: chain.client, store }, shallow).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ReorgTooDeepError);
      expect((error as ReorgTooDeepError).retryable).toBe(false);
      // Nothing was repaired silently.
      expect(await allEvents()).toEqual(before);

      // The polling loop stops loudly with the same typed error.
      const follower = startFollower(
        { client: chain.client, store },
        { ...shallow, pollIntervalMs: 10, onError: (caught) => expect.fail(String(caught)) },
      );
      await expect(follower.done).rejects.toBeInstanceOf(ReorgTooDeepError);
    });

    it('counts a block only after the configured confirmations', async () => {
      const confirmed = { ...config, confirmations: 2 };
      const hash = await stakeVvv(ctx, 1_000n * WAD);
      await followOnce({ client: chain.client, store }, confirmed);
      const recorded = async () => (await allEvents()).some((event) => event.txHash === hash);
      expect(await recorded()).toBe(false);
      await testClient().mine({ blocks: 1 });
      await followOnce({ client: chain.client, store }, confirmed);
      expect(await recorded()).toBe(false);
      await testClient().mine({ blocks: 1 });
      await followOnce({ client: chain.client, store }, confirmed);
      expect(await recorded()).toBe(true);
    });

    it('follows new blocks while running and stops on request', async () => {
      const follower = startFollower({ client: chain.client, store }, { ...config, pollIntervalMs: 20 });
      const hash = await stakeVvv(ctx, 1_000n * WAD);
      const deadlineMs = Date.now() + 5_000;
      while ((await allEvents()).filter((event) => event.txHash === hash).length < 2) {
        expect(Date.now()).toBeLessThan(deadlineMs);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await follower.stop();
      await expect(follower.done).resolves.toBeUndefined();
    });
  });
}
