import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Address, getAddress, type Hex, zeroAddress } from 'viem';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../core/errors.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import { FollowerCursorMovedError } from './errors.ts';
import type { ChainEvent } from './events.ts';
import { openSqliteFollowerStore } from './sqliteFollowerStore.ts';
import type { BlockRef, FollowerStore } from './store.ts';
import { postgresStoreHarness, type StoreHarness, sqliteStoreHarness, type TestDatabase } from './testing.ts';

const chainId = 31337;
const alice = getAddress('0x00000000000000000000000000000000000a11ce');
const bob = getAddress('0x0000000000000000000000000000000000000b0b');
const token = getAddress('0x00000000000000000000000000000000000d1e37');
const hashOf = (n: bigint, fork = 0): Hex => `0x${(n * 16n + BigInt(fork)).toString(16).padStart(64, '0')}`;
const block = (n: bigint, fork = 0): BlockRef => ({ number: n, hash: hashOf(n, fork) });

function transfer(n: bigint, logIndex: number, from: Address, to: Address, amountWei: bigint): ChainEvent {
  return {
    chainId,
    contract: 'diem',
    address: token,
    kind: 'diem.Transfer',
    blockNumber: n,
    blockHash: hashOf(n),
    blockTimestampSeconds: 1_700_000_000n + n,
    txHash: hashOf(n, 9),
    logIndex,
    account: from,
    counterparty: to,
    amountWei,
    details: {},
  };
}

const harnesses: StoreHarness[] = [sqliteStoreHarness, await postgresStoreHarness()];

for (const harness of harnesses) {
  describe.skipIf(harness.skipReason !== null)(`follower store on ${harness.name}`, () => {
    let database: TestDatabase;
    let store: FollowerStore;

    beforeEach(async () => {
      database = harness.create();
      store = await database.open();
    });

    afterEach(async () => {
      await store.close();
      await database.cleanup();
    });

    it('pages an account history newest first, keeps uint256 amounts exact and filters by kind', async () => {
      const huge = 2n ** 255n + 1n;
      const events = [
        transfer(1n, 0, zeroAddress, alice, huge),
        transfer(2n, 0, alice, bob, 5n),
        transfer(2n, 1, bob, alice, 3n),
        {
          ...transfer(3n, 0, alice, bob, 0n),
          kind: 'diemStaking.Staked' as const,
          counterparty: null,
          details: { stakedWei: 7n },
        },
      ];
      await store.commit({
        chainId,
        previous: null,
        cursor: block(3n),
        events,
        blocks: [block(3n)],
        keepBlocksFrom: 0n,
      });
      const first = await store.history({ chainId, account: alice, limit: 2 });
      expect(first.events.map((event) => [event.blockNumber, event.logIndex])).toEqual([
        [3n, 0],
        [2n, 1],
      ]);
      const second = await store.history({ chainId, account: alice, limit: 2, cursor: first.nextCursor ?? '' });
      expect(second.events.map((event) => event.amountWei)).toEqual([5n, huge]);
      expect(second.nextCursor).toBeNull();
      const staked = await store.history({ chainId, kinds: ['diemStaking.Staked'] });
      expect(staked.events.map((event) => event.details)).toEqual([{ stakedWei: 7n }]);
      expect((await store.history({ chainId, account: bob })).events).toHaveLength(2);
      expect((await store.history({ chainId: 1, account: alice })).events).toEqual([]);
    });

    it('rejects a bad limit, cursor, kind or address as invalid requests', async () => {
      for (const query of [
        { chainId, limit: 0 },
        { chainId, limit: 10_000 },
        { chainId, cursor: 'not-a-cursor' },
        { chainId, kinds: ['diem.Approval' as never] },
        { chainId, account: '0x1234' as Address },
      ]) {
        await expect(store.history(query)).rejects.toBeInstanceOf(InvalidRequestError);
      }
    });

    it('moves the cursor only from where the batch started, and rewinds atomically', async () => {
      const batch = (previous: BlockRef | null, to: bigint, events: ChainEvent[]) => ({
        chainId,
        previous,
        cursor: block(to),
        events,
        blocks: [block(to)],
        keepBlocksFrom: to - 2n,
      });
      await store.commit(batch(null, 1n, [transfer(1n, 0, alice, bob, 1n)]));
      await store.commit(batch(block(1n), 2n, [transfer(2n, 0, alice, bob, 2n)]));
      await store.commit(batch(block(2n), 3n, [transfer(3n, 0, alice, bob, 3n)]));
      await store.commit(batch(block(3n), 4n, []));
      // A second follower still at block 2 cannot commit over the first.
      await expect(store.commit(batch(block(2n), 3n, []))).rejects.toBeInstanceOf(FollowerCursorMovedError);
      // Hashes older than the reorg depth are forgotten.
      expect((await store.recentBlocks(chainId)).map((ref) => ref.number)).toEqual([4n, 3n, 2n]);

      expect(await store.rewind(chainId, block(2n))).toBe(1);
      expect(await store.cursor(chainId)).toEqual(block(2n));
      expect((await store.recentBlocks(chainId)).map((ref) => ref.number)).toEqual([2n]);
      expect((await store.history({ chainId })).events.map((event) => event.amountWei)).toEqual([2n, 1n]);

      expect(await store.rewind(chainId, null)).toBe(2);
      expect(await store.cursor(chainId)).toBeNull();
      await store.commit(batch(null, 1n, [transfer(1n, 0, alice, bob, 1n)]));
      expect(await store.cursor(chainId)).toEqual(block(1n));
    });

    it('keeps its state across a reopen of the same database', async () => {
      await store.commit({
        chainId,
        previous: null,
        cursor: block(5n),
        events: [transfer(5n, 0, alice, bob, 9n)],
        blocks: [block(5n)],
        keepBlocksFrom: 0n,
      });
      await store.close();
      store = await database.open();
      expect(await store.cursor(chainId)).toEqual(block(5n));
      expect((await store.history({ chainId, account: alice })).events).toEqual([transfer(5n, 0, alice, bob, 9n)]);
    });
  });
}

describe('follower store beside the SQLite ledger', () => {
  it('shares the ledger file: its own tables and migrations, both usable at once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'perdiem-follower-ledger-'));
    const file = path.join(dir, 'ledger.db');
    const ledger = openSqliteLedger({ path: file, clock: () => 1_700_000_000_000, backgroundCheckpoints: false });
    const store = openSqliteFollowerStore({ path: file });
    try {
      await store.commit({
        chainId,
        previous: null,
        cursor: block(1n),
        events: [transfer(1n, 0, alice, bob, 1n)],
        blocks: [block(1n)],
        keepBlocksFrom: 0n,
      });
      const account = await ledger.createAccount({ name: 'holder' });
      expect(account.id).toBeTruthy();
      expect((await store.history({ chainId })).events).toHaveLength(1);
    } finally {
      await store.close();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
