/**
 * `perdiem up` as a real process, with a second wallet linked to the demo account through the gateway
 * (`perdiem wallets link`, i.e. GET|POST /api/v1/wallets/link): the wallet has staked DIEM before it is linked, and
 * `GET /api/v1/billing/balance` shows the sum of both wallets' allowances as soon as the link answers — the feed is
 * told at once, not at its next timer round.
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
import { startUpProcess, stopUpProcess } from './testing/upProcess.ts';
import { verbRunner } from './testing/verbRunner.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-wallets-'));

const perdiem = verbRunner(home);

describe('perdiem up with two wallets on one account', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("links a second wallet by its signature and shows the sum of the wallets' allowances in the balance", async () => {
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

      // A second wallet stakes 3 DIEM on the stack's chain; not linked yet, it backs nothing here.
      const secondKey = generatePrivateKey();
      const second = privateKeyToAccount(secondKey);
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
      expect(await allocation()).toBe(100);

      const linked = await perdiem('wallets', 'link', '--private-key', secondKey);
      expect(linked.err).toBe('');
      expect(linked.code).toBe(0);
      expect(linked.out).toContain(second.address);
      expect(linked.out).toMatch(/^Linked: /m);
      // At once: the allowance feed's timer is 15 s; the link told it.
      expect(await allocation()).toBe(103);

      const listed = await perdiem('wallets', 'list', '--json');
      expect(listed.code).toBe(0);
      const wallets = JSON.parse(listed.out) as { address: string; linkedAt: string }[];
      expect(wallets.map((wallet) => wallet.address)).toEqual([demo.address, second.address]);
      expect(Date.parse(wallets[1]!.linkedAt)).toBeGreaterThanOrEqual(Date.parse(wallets[0]!.linkedAt));
      const table = await perdiem('wallets', 'list');
      expect(table.out).toMatch(/^ADDRESS\s+LINKED \(UTC\)$/m);

      const again = await perdiem('wallets', 'link', '--private-key', secondKey, '--json');
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out)).toEqual({ ...wallets[1], newlyLinked: false });
      expect(await allocation()).toBe(103);
    } finally {
      expect(await stopUpProcess(running)).toBe(0);
    }
  });
});
