/**
 * The operator's and the holder's new powers on a real anvil, driven in-process through `main(argv, io)`:
 * `perdiem deploy` with an emission schedule and a launch guard (and the constructor's refusals as usage errors),
 * the guard holding `mint` to the cap until the window ends, `perdiem emissions` show/propose/apply/cancel with
 * the timelock and the per-change bound, and `perdiem transfer-svvv` of unlocked sVVV (locked sVVV refused).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Address, type Hex, parseEther, toHex } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnvilInstance, anvilMnemonic, startAnvil } from '../chain/anvil.ts';
import { chainFor, publicClientFor, walletClientFor } from '../chain/clients.ts';
import type { PerdiemContracts } from '../chain/deploy.ts';
import { stakedVvvAbi, vvvAbi } from '../chain/generated/contracts.ts';
import { isoSeconds } from './amounts.ts';
import { main } from './main.ts';
import { writeStackState } from './stateFile.ts';
import { captureIo } from './testing/captureIo.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-cli-owner-'));
const home = path.join(cwd, '.perdiem');
const deployerAccount = mnemonicToAccount(anvilMnemonic);
const deployerKey = toHex(deployerAccount.getHdKey().privateKey!);
const holderKey: Hex = generatePrivateKey();
const holder = privateKeyToAccount(holderKey).address;
const friend = mnemonicToAccount(anvilMnemonic, { addressIndex: 3 }).address;
const launchWindowSeconds = 3_600;
const delaySeconds = 86_400;
let anvil: AnvilInstance;
let contracts: PerdiemContracts;

async function rpc(method: string, params: unknown[]): Promise<void> {
  const response = await fetch(anvil.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  expect(response.ok).toBe(true);
}

async function passTime(seconds: number): Promise<void> {
  await rpc('evm_increaseTime', [seconds]);
  await rpc('evm_mine', []);
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const captured = captureIo(cwd, env);
  const code = await main(argv, captured.io);
  return { code, out: captured.stdout(), err: captured.stderr() };
}

const client = () => publicClientFor(chainFor(anvil.chainId, anvil.rpcUrl));
const deployerNonce = () => client().getTransactionCount({ address: deployerAccount.address, blockTag: 'latest' });

beforeAll(async () => {
  anvil = await startAnvil();
  const deployed = await run([
    'deploy',
    '--rpc',
    anvil.rpcUrl,
    '--private-key',
    deployerKey,
    '--emission-delay-seconds',
    String(delaySeconds),
    '--launch-window-seconds',
    String(launchWindowSeconds),
    '--launch-mint-cap',
    '10',
    '--json',
  ]);
  expect(deployed.err).toBe('');
  expect(deployed.code).toBe(0);
  contracts = JSON.parse(deployed.out).contracts;

  const deployer = walletClientFor(chainFor(anvil.chainId, anvil.rpcUrl), deployerAccount);
  const wait = (hash: Hex) => client().waitForTransactionReceipt({ hash });
  await wait(await deployer.sendTransaction({ to: holder, value: parseEther('10') }));
  await wait(
    await deployer.writeContract({
      address: contracts.vvv,
      abi: vvvAbi,
      functionName: 'transfer',
      args: [holder, parseEther('50000')],
    }),
  );
  // As `perdiem up` writes it: the demo wallet is a holder; the owner is anvil's first account, the deployer.
  writeStackState(home, {
    gatewayUrl: 'http://127.0.0.1:9',
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    contracts,
    models: [],
    demo: { address: holder, privateKey: holderKey, apiKey: 'unused', adminKey: 'unused', accountId: 'unused' },
    operatorToken: 'unused',
  });
});

afterAll(async () => {
  await anvil?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('perdiem deploy with an emission schedule and a launch guard', () => {
  const deployArgs = () => ['deploy', '--rpc', anvil.rpcUrl, '--private-key', deployerKey];

  it.each([
    [['--emission-decay-bps', 'abc'], /--emission-decay-bps must be a whole number/],
    [['--emission-delay-seconds', '1.5'], /--emission-delay-seconds must be a whole number/],
    [['--annual-emission', '1e6'], /--annual-emission must be a decimal number of tokens/],
    [['--launch-mint-cap', '0.0000000000000000001'], /--launch-mint-cap has more than 18 decimals/],
    [['--launch-mint-cap', '-1'], /amounts must not be negative/],
    [['--epoch-seconds', '0'], /--epoch-seconds must be positive/],
  ])('refuses %j with the usage, exit 2', async (flags, message) => {
    const nonce = await deployerNonce();
    const { code, err } = await run([...deployArgs(), ...flags]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('usage: perdiem deploy');
    expect(await deployerNonce()).toBe(nonce);
  });

  it.each([
    [
      ['--emission-decay-bps', '12000'],
      'reverted: StakedVVVInvalidEmissionDecay(12000) — --emission-decay-bps is at most 10000 (100% a year), got 12000',
    ],
    [
      ['--annual-emission', '20000000'],
      'reverted: StakedVVVEmissionAboveCeiling(20000000000000000000000000, 14000000000000000000000000) — --annual-emission 20,000,000 is above --emission-ceiling 14,000,000',
    ],
    [
      ['--emission-delay-seconds', String(366 * 86_400)],
      'reverted: StakedVVVEmissionDelayTooLong(31622400, 31536000) — --emission-delay-seconds is at most 31536000 (365 days), got 31622400',
    ],
  ])('names the constructor error for %j and sends nothing, exit 2', async (flags, message) => {
    const nonce = await deployerNonce();
    const { code, err } = await run([...deployArgs(), ...flags]);
    expect(code).toBe(2);
    expect(err).toContain(`perdiem deploy: StakedVVV refuses these settings: ${message}`);
    expect(err).toContain('usage: perdiem deploy');
    expect(await deployerNonce()).toBe(nonce);
  });

  it('prints the addresses and the schedule as deployed', async () => {
    const { code, out } = await run([
      ...deployArgs(),
      '--annual-emission',
      '5000000.5',
      '--emission-ceiling',
      '8000000',
      '--emission-decay-bps',
      '1000',
      '--emission-change-bps',
      '500',
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/^stakedVvv\s+0x[0-9a-fA-F]{40}$/m);
    expect(out).toMatch(new RegExp(`^owner\\s+${deployerAccount.address}$`, 'm'));
    expect(out).toMatch(/^rate\s+5,000,000\.5 VVV\/yr$/m);
    expect(out).toMatch(/^ceiling\s+8,000,000 VVV\/yr \(8,000,000 at launch, falling 10% every 365 days\)$/m);
    expect(out).toMatch(/^next step\s+\d{4}-\d\d-\d\dT[\d:]+Z \(in 36[45] days[^)]*\): 7,200,000 VVV\/yr$/m);
    expect(out).toMatch(/^per change\s+at most 400,000 VVV\/yr \(5% of the ceiling\)$/m);
    expect(out).toMatch(/^delay\s+2 days \(172800 s\) from propose to apply$/m);
    expect(out).toMatch(/^launch guard\s+off$/m);
  });

  it('deployed the schedule and the guard of the flags (the --json of the first deployment)', async () => {
    const { out } = await run(['emissions', 'show', '--json']);
    const schedule = JSON.parse(out);
    expect(schedule.owner).toBe(deployerAccount.address);
    expect(schedule.emissionChangeDelaySeconds).toBe(String(delaySeconds));
    expect(schedule.launchGuard.mintCapWei).toBe(parseEther('10').toString());
    expect(BigInt(schedule.launchGuard.endsAtSeconds) - BigInt(schedule.startSeconds)).toBe(
      BigInt(launchWindowSeconds),
    );
  });
});

describe('the launch guard', () => {
  it('lets an address mint up to the cap during the window, showing the guard', async () => {
    expect((await run(['stake', '20000'])).code).toBe(0);
    const { code, out, err } = await run(['mint', '10']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(
      /^launch guard {2}until \S+Z each address may mint at most 10 DIEM \(this wallet: 0 so far\)$/m,
    );
    expect(out).toMatch(/^DIEM held\s+10$/m);
  });

  it('refuses a mint above the cap with the cap and what was minted, exit 1', async () => {
    const { code, err } = await run(['mint', '1']);
    expect(code).toBe(1);
    expect(err).toBe(
      'perdiem mint: reverted: StakedVVVLaunchMintCapExceeded(1000000000000000000, 10000000000000000000, 10000000000000000000) — during the launch window each address may mint at most 10 DIEM; this one has minted 10 and asked for 1 more',
    );
  });

  it('frees minting once the window has ended', async () => {
    await passTime(launchWindowSeconds);
    const { code, out } = await run(['mint', '1']);
    expect(code).toBe(0);
    expect(out).not.toMatch(/launch guard/);
    expect(out).toMatch(/^DIEM held\s+11$/m);
    expect((await run(['emissions', 'show'])).out).toMatch(/^launch guard\s+ended \S+Z$/m);
  });
});

describe('perdiem emissions', () => {
  let effectiveAt: bigint;

  it('shows the rate, the ceiling and its next step, the bound, the delay, nothing pending and the owner', async () => {
    const { code, out } = await run(['emissions', 'show']);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^owner\\s+${deployerAccount.address}$`, 'm'));
    expect(out).toMatch(/^pending owner\s+none$/m);
    expect(out).toMatch(/^rate\s+10,000,000 VVV\/yr$/m);
    expect(out).toMatch(/^effective rate\s+10,000,000 VVV\/yr \(the lower of the rate and the ceiling\)$/m);
    expect(out).toMatch(/^ceiling\s+14,000,000 VVV\/yr \(14,000,000 at launch, falling 15% every 365 days\)$/m);
    expect(out).toMatch(/^next step\s+\S+Z \(in 364 days 2\d hours\): 11,900,000 VVV\/yr$/m);
    expect(out).toMatch(/^per change\s+at most 2,800,000 VVV\/yr \(20% of the ceiling\)$/m);
    expect(out).toMatch(/^delay\s+1 day \(86400 s\) from propose to apply$/m);
    expect(out).toMatch(/^pending\s+none$/m);
  });

  it('refuses a change beyond the per-change bound and prints the bound, exit 1', async () => {
    const { code, err } = await run(['emissions', 'propose', '13000000']);
    expect(code).toBe(1);
    expect(err).toBe(
      'perdiem emissions: reverted: StakedVVVEmissionChangeTooLarge(10000000000000000000000000, 13000000000000000000000000, 2800000000000000000000000) — one change moves the rate by at most 2,800,000 VVV/yr (20% of the ceiling when it applies): from 10,000,000, propose between 7,200,000 and 12,800,000 (and at most the ceiling)',
    );
  });

  it('refuses a rate above the ceiling and prints the ceiling, exit 1', async () => {
    const { code, err } = await run(['emissions', 'propose', '15000000']);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^perdiem emissions: reverted: StakedVVVEmissionAboveCeiling\(15000000000000000000000000, 14000000000000000000000000\) — the ceiling when the change would apply is 14,000,000 VVV\/yr$/,
    );
  });

  it('refuses a proposal from a wallet that is not the owner', async () => {
    const { code, err } = await run(['emissions', 'propose', '11000000', '--private-key', holderKey]);
    expect(code).toBe(1);
    expect(err).toBe(
      `perdiem emissions: reverted: OwnableUnauthorizedAccount(${holder}) — ${holder} is not the owner of StakedVVV (the owner is ${deployerAccount.address})`,
    );
  });

  it('proposes with the owner key of the local chain and shows when it can be applied', async () => {
    const { code, out, err } = await run(['emissions', 'propose', '12000000']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^from\\s+${deployerAccount.address}$`, 'm'));
    expect(out).toMatch(/^propose\s+12,000,000 VVV\/yr \(now 10,000,000; at most ±2,800,000 per change\)$/m);
    expect(out).toMatch(/^tx 0x[0-9a-f]{64}$/m);
    expect(out).toMatch(/^rate\s+10,000,000 VVV\/yr$/m);
    expect(out).toMatch(
      /^pending\s+12,000,000 VVV\/yr, can be applied from \S+Z \(in (1 day|23 hours \d+ minutes)\)$/m,
    );
    const pending = await client().readContract({
      address: contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'pendingAnnualEmission',
    });
    expect(pending[0]).toBe(parseEther('12000000'));
    effectiveAt = pending[1];
  });

  it('refuses a second proposal while one is pending', async () => {
    const { code, err } = await run(['emissions', 'propose', '11000000']);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^perdiem emissions: reverted: StakedVVVEmissionChangePending\(12000000000000000000000000, \d+\) — a change to 12,000,000 VVV\/yr is already pending \(applicable from \S+Z \(in [^)]+\)\); cancel it first with `perdiem emissions cancel`$/,
    );
  });

  it('refuses to apply too early and says when it becomes possible, exit 1', async () => {
    const { code, err } = await run(['emissions', 'apply']);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(
        `^perdiem emissions: reverted: StakedVVVEmissionChangeNotReady\\(${effectiveAt}\\) — too early: the change can be applied from ${isoSeconds(effectiveAt)} \\(in (1 day|23 hours \\d+ minutes)\\)$`,
      ),
    );
  });

  it('applies after the delay, from any wallet, with --json', async () => {
    await passTime(delaySeconds);
    const { code, out, err } = await run(['emissions', 'apply', '--private-key', holderKey, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.from).toBe(holder);
    expect(result.schedule.annualEmissionWei).toBe(parseEther('12000000').toString());
    expect(result.schedule.effectiveAnnualEmissionWei).toBe(parseEther('12000000').toString());
    expect(result.schedule.pending).toBeNull();
  });

  it('cancels a pending proposal; cancelling nothing is refused', async () => {
    expect((await run(['emissions', 'propose', '11000000'])).code).toBe(0);
    const { code, out } = await run(['emissions', 'cancel']);
    expect(code).toBe(0);
    expect(out).toMatch(/^cancel\s+11,000,000 VVV\/yr, can be applied from/m);
    expect(out).toMatch(/^pending\s+none$/m);
    expect(out).toMatch(/^rate\s+12,000,000 VVV\/yr$/m);
    const again = await run(['emissions', 'cancel']);
    expect(again.code).toBe(1);
    expect(again.err).toBe('perdiem emissions: reverted: StakedVVVNoEmissionChangePending() — no change is pending');
  });

  it("needs the owner's key away from the local chain of `perdiem up`, exit 2", async () => {
    const contractsFile = path.join(cwd, 'contracts.json');
    writeFileSync(contractsFile, JSON.stringify({ contracts }));
    const away = ['--home', path.join(cwd, 'nowhere'), '--rpc', anvil.rpcUrl, '--contracts', contractsFile];
    const refused = await run(['emissions', 'cancel', ...away]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      `cancel needs the owner's key (the owner is ${deployerAccount.address}): pass --private-key or set PERDIEM_DEPLOYER_KEY`,
    );
    const withKey = await run(['emissions', 'propose', '11500000', ...away], { PERDIEM_DEPLOYER_KEY: deployerKey });
    expect(withKey.code).toBe(0);
    expect(withKey.out).toMatch(/^pending\s+11,500,000 VVV\/yr/m);
  });

  it.each([
    [['emissions'], /missing the action/],
    [['emissions', 'raise'], /unknown action: raise/],
    [['emissions', 'propose'], /missing the new rate/],
    [['emissions', 'propose', 'lots'], /VVV_PER_YEAR must be a decimal number of tokens/],
    [['emissions', 'show', 'now'], /unexpected arguments: now/],
  ])('refuses %j with the usage, exit 2', async (argv, message) => {
    const { code, err } = await run(argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('usage: perdiem emissions show');
  });
});

describe('perdiem transfer-svvv', () => {
  const svvvOf = (address: Address) =>
    client().readContract({
      address: contracts.stakedVvv,
      abi: stakedVvvAbi,
      functionName: 'stakedOf',
      args: [address],
    });

  it('sends unlocked sVVV and prints the sender holdings', async () => {
    const { code, out, err } = await run(['transfer-svvv', friend, '100']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^to\\s+${friend}$`, 'm'));
    expect(out).toMatch(/^amount\s+100 sVVV$/m);
    expect(out).toMatch(/^sVVV staked\s+19,900 \(unlocked [\d,.]+, locked [\d,.]+\)$/m);
    expect(await svvvOf(friend)).toBe(parseEther('100'));
  });

  it('refuses more than the unlocked sVVV, naming what is locked, and sends nothing (exit 1)', async () => {
    const { code, err } = await run(['transfer-svvv', friend, '19000']);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^perdiem transfer-svvv: cannot transfer 19,000 sVVV: only [\d,.]+ is unlocked; [\d,.]+ is locked behind the DIEM this wallet minted \(burn DIEM to unlock it\)$/,
    );
    expect(await svvvOf(friend)).toBe(parseEther('100'));
  });

  it.each([
    [['transfer-svvv'], /missing the recipient address/],
    [['transfer-svvv', '0x1234', '1'], /the recipient address is not an address: 0x1234/],
    [['transfer-svvv', friend], /missing the sVVV amount/],
    [['transfer-svvv', friend, '0'], /sVVV amount must be more than 0/],
  ])('refuses %j with the usage, exit 2', async (argv, message) => {
    const { code, err } = await run(argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('usage: perdiem transfer-svvv TO AMOUNT');
  });
});
