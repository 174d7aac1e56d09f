/**
 * The holder verbs on a real anvil, driven in-process through `main(argv, io)` with a state file in a temp home:
 * stake → mint (rate and quote shown) → stake-diem → unstake-diem → burn, a decoded revert, and a dead RPC; then
 * allocate set → list (both sides) → refused allocations and unstakes → revoke.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Hex, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vvvAbi } from '../chain/generated/contracts.ts';
import { startTestChain, type TestChain } from '../chain/testChain.ts';
import { main } from './main.ts';
import { writeStackState } from './stateFile.ts';
import { captureIo, closedPort } from './testing/captureIo.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-cli-chain-'));
const home = path.join(cwd, '.perdiem');
const privateKey: Hex = generatePrivateKey();
const holder = privateKeyToAccount(privateKey).address;
let chain: TestChain;

async function rpc(method: string, params: unknown[]): Promise<void> {
  const response = await fetch(chain.anvil.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  expect(response.ok).toBe(true);
}

async function run(...argv: string[]) {
  const captured = captureIo(cwd);
  const code = await main(argv, captured.io);
  return { code, out: captured.stdout(), err: captured.stderr() };
}

beforeAll(async () => {
  chain = await startTestChain();
  const wait = (hash: Hex) => chain.client.waitForTransactionReceipt({ hash });
  await wait(await chain.deployer.sendTransaction({ to: holder, value: parseEther('10') }));
  await wait(
    await chain.deployer.writeContract({
      address: chain.contracts.vvv,
      abi: vvvAbi,
      functionName: 'transfer',
      args: [holder, parseEther('50000')],
    }),
  );
  writeStackState(home, {
    gatewayUrl: 'http://127.0.0.1:9',
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.anvil.chainId,
    contracts: chain.contracts,
    models: [],
    demo: { address: holder, privateKey, apiKey: 'unused', adminKey: 'unused', accountId: 'unused' },
    operatorToken: 'unused',
  });
});

afterAll(async () => {
  await chain?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('chain verbs on anvil', () => {
  it('stakes VVV and prints the tx hash and the resulting holdings', async () => {
    const { code, out, err } = await run('stake', '20000');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^tx 0x[0-9a-f]{64}$/m);
    expect(out).toMatch(/^VVV\s+30,000$/m);
    expect(out).toMatch(/^sVVV staked\s+20,000 \(unlocked 20,000, locked 0\)$/m);
  });

  it('mints DIEM after printing the mint rate and the quote', async () => {
    const { code, out } = await run('mint', '100');
    expect(code).toBe(0);
    expect(out).toMatch(/^mint rate\s+90 sVVV per DIEM/m);
    const quote = /^quote\s+100 DIEM locks ([\d,.]+) sVVV$/m.exec(out);
    expect(quote).not.toBeNull();
    expect(out.indexOf('quote')).toBeLessThan(out.indexOf('tx 0x'));
    expect(out).toMatch(/^DIEM held\s+100$/m);
    expect(out).toContain(`locked ${quote![1]}`);
  });

  it('prints machine-readable JSON with --json', async () => {
    const { code, out } = await run('mint', '1', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.diemWei).toBe(parseEther('1').toString());
    expect(BigInt(result.quoteSvvvWei)).toBeGreaterThan(parseEther('90'));
    expect(result.holdings.diem.heldWei).toBe(parseEther('101').toString());
  });

  it('stakes DIEM, which becomes today’s allowance', async () => {
    const { code, out } = await run('stake-diem', '100');
    expect(code).toBe(0);
    expect(out).toMatch(/^DIEM staked\s+100$/m);
    expect(out).toMatch(/^allowance\s+\$100 today/m);
  });

  it('starts the DIEM cooldown with unstake-diem; withdraw-diem before it ends is a decoded revert', async () => {
    const unstake = await run('unstake-diem', '40');
    expect(unstake.code).toBe(0);
    expect(unstake.out).toMatch(/^DIEM staked\s+60$/m);
    expect(unstake.out).toMatch(/^DIEM cooling\s+40 \(until \d{4}-/m);
    // The allowance keeps the epoch's highest stake.
    expect(unstake.out).toMatch(/^allowance\s+\$100 today/m);

    const early = await run('withdraw-diem');
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/^perdiem withdraw-diem: reverted: DiemStakingCooldownActive\(\d+\)$/);
  });

  it('burns DIEM after printing what it unlocks', async () => {
    const { code, out } = await run('burn', '1');
    expect(code).toBe(0);
    expect(out).toMatch(/^quote\s+burning 1 DIEM unlocks [\d,.]+ sVVV$/m);
    expect(out).toMatch(/^DIEM held\s+0$/m);
  });

  it('reports a mint above --max-svvv as StakedVVVSlippage with its arguments, exit 1', async () => {
    const { code, out, err } = await run('mint', '10', '--max-svvv', '1');
    expect(code).toBe(1);
    expect(out).toMatch(/^quote\s+10 DIEM locks/m);
    expect(err).toMatch(/^perdiem mint: reverted: StakedVVVSlippage\(\d+, 1000000000000000000\)$/);
  });

  it('decodes a revert from a quote read (quoteBurn above what the wallet minted)', async () => {
    const { code, err } = await run('burn', '1000');
    expect(code).toBe(1);
    expect(err).toMatch(/^perdiem burn: reverted: StakedVVVBurnExceedsMinted\(1000000000000000000000, \d+\)$/);
  });

  it('decodes a revert raised inside another contract (VVV during stake)', async () => {
    const { code, err } = await run('stake', '1000000');
    expect(code).toBe(1);
    expect(err).toMatch(/^perdiem stake: reverted: ERC20InsufficientBalance\(0x[0-9a-fA-F]{40}, \d+, \d+\)$/);
  });

  it('balance --chain-only reads the wallet of the state file; --address reads any wallet', async () => {
    const { code, out } = await run('balance', '--chain-only');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^wallet\\s+${holder}$`, 'm'));
    expect(out).toMatch(/^DIEM staked\s+60$/m);
    const other = await run('balance', '--chain-only', '--json', '--address', chain.deployer.account.address);
    const holdings = JSON.parse(other.out).chain;
    expect(holdings.address).toBe(chain.deployer.account.address);
    expect(holdings.diem.stakedWei).toBe('0');
  });

  it('allocate set gives a member part of the allowance from the next epoch; list shows both sides', async () => {
    const member = privateKeyToAccount(generatePrivateKey()).address;
    const set = await run('allocate', 'set', member, '25');
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/^tx 0x[0-9a-f]{64}$/m);
    expect(set.out).toMatch(/^allowance\s+100 DIEM this epoch, 35 DIEM next$/m);
    expect(set.out).toMatch(/^allocated out\s+0 DIEM this epoch, 25 DIEM next$/m);
    expect(set.out).toMatch(new RegExp(`^${member}\\s+0\\s+25$`, 'm'));

    const json = JSON.parse((await run('allocate', 'list', '--wallet', member, '--json')).out);
    expect(json.wallet).toBe(member);
    expect(json.inCurrentWei).toBe('0');
    expect(json.inNextWei).toBe(parseEther('25').toString());
    expect(json.nextAllowanceWei).toBe(parseEther('25').toString());
    expect(json.in).toEqual([{ wallet: holder, currentWei: '0', nextWei: parseEther('25').toString() }]);

    // Beyond the stake (60 staked, 25 + 50 allocated): refused, in words.
    const other = privateKeyToAccount(generatePrivateKey()).address;
    const over = await run('allocate', 'set', other, '50');
    expect(over.code).toBe(1);
    expect(over.err).toMatch(
      /^perdiem allocate: reverted: DiemStakingAllocationExceedsStake\(75000000000000000000, 60000000000000000000\) — allocations from the next epoch would total 75 DIEM/,
    );
    // An unstake that would leave less staked than allocated: refused until the allocation is lowered.
    const unstake = await run('unstake-diem', '40');
    expect(unstake.code).toBe(1);
    expect(unstake.err).toMatch(
      /^perdiem unstake-diem: reverted: DiemStakingStakeAllocated\(20000000000000000000, 25000000000000000000\) — /,
    );

    const revoked = JSON.parse((await run('allocate', 'revoke', member, '--json')).out);
    expect(revoked.amountWei).toBe('0');
    expect(revoked.allocations.outNextWei).toBe('0');
    expect(revoked.allocations.out).toEqual([]);
    expect(BigInt(revoked.effectiveEpoch)).toBe(BigInt(revoked.allocations.epoch) + 1n);
  });

  it('allocate refuses bad input before anything is sent, exit 2', async () => {
    expect((await run('allocate', 'set', 'not-an-address', '1')).code).toBe(2);
    expect((await run('allocate', 'set', holder)).code).toBe(2);
    expect((await run('allocate', 'grant')).code).toBe(2);
    expect((await run('allocate', 'revoke', holder, '--wallet', holder)).code).toBe(2);
    const self = await run('allocate', 'set', holder, '1');
    expect(self.code).toBe(1);
    expect(self.err).toMatch(/DiemStakingSelfAllocation\(\) — a wallet cannot allocate to itself$/);
  });

  it('says it cannot reach an RPC that is down, exit 1', async () => {
    const rpc = `http://127.0.0.1:${await closedPort()}`;
    const { code, err } = await run('stake', '1', '--rpc', rpc);
    expect(code).toBe(1);
    expect(err).toBe(`perdiem stake: cannot reach the RPC at ${rpc}: HTTP request failed. (ECONNREFUSED)`);
  });

  it('takes the key and contracts from flags instead of the state file', async () => {
    const contractsFile = path.join(cwd, 'contracts.json');
    writeFileSync(contractsFile, JSON.stringify({ chainId: chain.anvil.chainId, contracts: chain.contracts }));
    const { code, out } = await run(
      'unstake',
      '5',
      '--home',
      path.join(cwd, 'nowhere'),
      '--rpc',
      chain.anvil.rpcUrl,
      '--contracts',
      contractsFile,
      '--private-key',
      privateKey,
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^sVVV cooling\s+5 \(until/m);
  });

  it('withdraws VVV and DIEM once their cooldowns have ended', async () => {
    await rpc('evm_increaseTime', [8 * 86_400]);
    await rpc('evm_mine', []);
    const vvv = await run('withdraw');
    expect(vvv.code).toBe(0);
    expect(vvv.out).toMatch(/^VVV\s+30,005$/m);
    expect(vvv.out).toMatch(/^sVVV cooling\s+0$/m);
    const diem = await run('withdraw-diem');
    expect(diem.code).toBe(0);
    expect(diem.out).toMatch(/^DIEM held\s+40$/m);
    expect(diem.out).toMatch(/^DIEM cooling\s+0$/m);
  });
});
