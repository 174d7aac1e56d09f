/**
 * `perdiem up` as a real process, with a second wallet linked to the demo account: the running allowance feed finds
 * the wallet in the ledger when it stakes DIEM, and `GET /api/v1/billing/balance` shows the sum of both wallets'
 * allowances. The gateway has no route that links a second wallet to an account yet, so the test links it in the
 * ledger's file, as another process (an operator's tool) would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEther } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { anvilMnemonic } from '../chain/anvil.ts';
import { chainFor, publicClientFor, walletClientFor } from '../chain/clients.ts';
import { setUpDemoWallet } from '../chain/demo.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { startUpProcess, stopUpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-wallets-'));

describe('perdiem up with two wallets on one account', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("shows the sum of the account's wallets' allowances in the balance", async () => {
    const running = await startUpProcess(home);
    try {
      const { state } = running;
      const demo = state.demo!;
      const allocation = async () => {
        const response = await fetch(`${state.gatewayUrl}/api/v1/billing/balance`, {
          headers: { authorization: `Bearer ${demo.apiKey}` },
        });
        expect(response.status).toBe(200);
        return ((await response.json()) as { diemEpochAllocation: number }).diemEpochAllocation;
      };
      // The demo wallet staked 100 DIEM.
      expect(await allocation()).toBe(100);

      const secondKey = generatePrivateKey();
      const second = privateKeyToAccount(secondKey);
      const ledger = openSqliteLedger({
        path: path.join(home, 'ledger.sqlite'),
        clock: Date.now,
        backgroundCheckpoints: false,
      });
      try {
        await ledger.linkWallet(demo.accountId, second.address);
      } finally {
        await ledger.close();
      }

      // The second wallet stakes 3 DIEM on the stack's chain.
      const chain = chainFor(state.chainId, state.rpcUrl);
      const client = publicClientFor(chain);
      const deployer = walletClientFor(chain, mnemonicToAccount(anvilMnemonic));
      const plan = {
        gasWei: parseEther('1'),
        vvvWei: parseEther('5000'),
        stakeVvvWei: parseEther('5000'),
        mintDiemWei: parseEther('3'),
        stakeDiemWei: parseEther('3'),
      };
      await setUpDemoWallet(deployer, client, state.contracts, plan, secondKey);
      await expect.poll(allocation, { timeout: 20_000, interval: 250 }).toBe(103);
    } finally {
      expect(await stopUpProcess(running)).toBe(0);
    }
  });
});
