/**
 * Price sheets anchored on chain, end to end: the real stack (`startLocalStack`, what `perdiem up` runs) on an
 * external anvil with the PriceRegistry deployed beside the other contracts. Sheets are scheduled with
 * `perdiem prices set --effective-from`, anchored with `perdiem prices anchor` and checked with `perdiem prices
 * verify`; /v1/models shows which sheet the gateway prices with. Epochs are crossed by moving anvil's time and the
 * stack's clock together.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestClient, http, keccak256, stringToHex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorSheet } from '../chain/priceRegistry.ts';
import { startTestChain, type TestChain } from '../chain/testChain.ts';
import { type LocalStack, startLocalStack } from './localStack.ts';
import { resolveStackConfig } from './stackConfig.ts';
import { verbRunner } from './testing/verbRunner.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-anchors-'));
const daySeconds = 86_400;
/** The gateway reads anchors every 30 s (anchorLimits.refreshIntervalMs); a poll waits for one read and a margin. */
const anchorReadTimeoutMs = 45_000;

const perdiem = verbRunner(home);

const epochStartIso = (epoch: number) => new Date(epoch * daySeconds * 1000).toISOString();

describe('price sheets anchored on chain', { timeout: 300_000 }, () => {
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
  async function nextEpoch(): Promise<number> {
    const { client, anvil } = chain!;
    const testClient = createTestClient({ chain: client.chain, mode: 'anvil', transport: http(anvil.rpcUrl) });
    const latest = Number((await client.getBlock({ blockTag: 'latest' })).timestamp);
    const base = Math.max(latest, Math.floor(clock() / 1000));
    const target = (Math.floor(base / daySeconds) + 1) * daySeconds + 60;
    await testClient.increaseTime({ seconds: target - base });
    await testClient.mine({ blocks: 1 });
    const mined = Number((await client.getBlock({ blockTag: 'latest' })).timestamp);
    offsetMs = mined * 1000 - Date.now();
    return Math.floor(mined / daySeconds);
  }

  /** The output price the gateway prices with now (the operator's model list reads the same lookup as requests). */
  async function outputPrice(): Promise<string> {
    const answer = await fetch(`${stack!.state.gatewayUrl}/admin/models`, {
      headers: { authorization: `Bearer ${stack!.state.operatorToken}` },
    });
    const { data } = (await answer.json()) as { data: { id: string; pricing: { output: unknown } | null }[] };
    const model = data.find((entry) => entry.id === stack!.state.models[0]);
    return JSON.stringify(model!.pricing!.output);
  }

  async function schedule(outputPer1mUsd: string, effectiveFrom: string) {
    const set = await perdiem(
      'prices',
      'set',
      stack!.state.models[0]!,
      '--input-per-1m',
      '0',
      '--output-per-1m',
      outputPer1mUsd,
      '--effective-from',
      effectiveFrom,
      // Each step here moves the price past the calibration bound (its own tests cover it).
      '--override',
      '--reason',
      'anchoring test',
    );
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
  }

  it('refuses an unanchored sheet, activates an anchored one at its epoch, and verify catches a changed sheet', async () => {
    chain = await startTestChain();
    expect(chain.contracts.priceRegistry).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const contractsFile = path.join(home, 'contracts.json');
    writeFileSync(contractsFile, JSON.stringify(chain.contracts));
    const config = resolveStackConfig({ home, port: '0', rpc: chain.anvil.rpcUrl, contracts: contractsFile }, {}, home);
    stack = await startLocalStack({ config, progress: () => {}, clock });
    expect(stack.state.contracts.priceRegistry).toBe(chain.contracts.priceRegistry);
    const e0 = Math.floor(clock() / 1000 / daySeconds);
    const defaultPrice = await outputPrice();

    // The default sheet predates the registry: in force, and verify says it is exempt.
    const exempt = JSON.parse((await perdiem('prices', 'verify', '--epoch', String(e0), '--json')).out);
    expect(exempt.verdict).toBe('predates-registry');

    // (a) A sheet for e0 + 1 that nobody anchors: refused at its epoch, the default prices stay in force.
    await schedule('5', epochStartIso(e0 + 1));
    const e1 = await nextEpoch();
    expect(e1).toBe(e0 + 1);
    expect(await outputPrice()).toBe(defaultPrice);
    const unanchored = await perdiem('prices', 'verify', '--epoch', String(e1));
    expect(unanchored.code).toBe(1);
    expect(unanchored.out).toMatch(/UNANCHORED/);
    const metrics = await (await fetch(`${stack.state.gatewayUrl}/metrics`)).text();
    expect(metrics).toContain('perdiem_price_sheets_unanchored_total{outcome="refused"} 1');

    // (c) A sheet for e1 + 1, anchored now: in force from its epoch, announced before it began.
    await schedule('7', epochStartIso(e1 + 1));
    const anchored = await perdiem('prices', 'anchor', '--epoch', String(e1 + 1), '--json');
    expect(anchored.err).toBe('');
    expect(anchored.code).toBe(0);
    const anchor = JSON.parse(anchored.out) as { hash: `0x${string}`; uri: string; announcedSecondsBefore: number };
    expect(anchor.announcedSecondsBefore).toBeGreaterThan(0);
    // The anchored URI serves the canonical bytes of that hash, publicly.
    const served = await fetch(anchor.uri);
    expect(served.headers.get('content-type')).toMatch(/^application\/json/);
    expect(keccak256(new Uint8Array(await served.arrayBuffer()))).toBe(anchor.hash);
    const missing = await fetch(`${stack.state.gatewayUrl}/api/v1/prices/sheets/0x${'ab'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('price_sheet_not_found');
    expect(await outputPrice()).toBe(defaultPrice);
    const e2 = await nextEpoch();
    await expect.poll(outputPrice, { timeout: anchorReadTimeoutMs, interval: 500 }).not.toBe(defaultPrice);
    const sevenDollars = await outputPrice();
    const verified = await perdiem('prices', 'verify', '--epoch', String(e2));
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/OK: the served sheet is the one anchored on chain/);
    expect(verified.out).toMatch(new RegExp(`\\d+ s before epoch ${e2} began`));

    // (b) The sheet served for e2 + 1 is not the one anchored: the operator anchors it, then the anchor is replaced by
    // the hash of a changed copy (sheets only go forward and change only at epoch starts, so the gateway itself cannot
    // serve two sheets for one epoch). verify fails, and the served sheet is refused at its start: $7 stays in force.
    await schedule('9', epochStartIso(e2 + 1));
    const first = JSON.parse((await perdiem('prices', 'anchor', '--epoch', String(e2 + 1), '--json')).out) as {
      hash: `0x${string}`;
      uri: string;
    };
    const servedBytes = await (await fetch(first.uri)).text();
    const changedCopy = servedBytes.replace(/"outputPer1M":"9000000000"/, '"outputPer1M":"11000000000"');
    expect(changedCopy).not.toBe(servedBytes);
    await anchorSheet(chain.deployer, chain.client, chain.contracts.priceRegistry!, {
      epoch: e2 + 1,
      hash: keccak256(stringToHex(changedCopy)),
      uri: first.uri,
    });
    const tampered = await perdiem('prices', 'verify', '--epoch', String(e2 + 1), '--json');
    expect(tampered.code).toBe(1);
    const report = JSON.parse(tampered.out) as { verdict: string; servedHash: string; anchoredHash: string };
    expect(report.verdict).toBe('mismatch');
    expect(report.servedHash).not.toBe(report.anchoredHash);
    const refusals = async () => {
      const text = await (await fetch(`${stack!.state.gatewayUrl}/metrics`)).text();
      return Number(/perdiem_price_sheets_unanchored_total\{outcome="refused"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const refusedBefore = await refusals();
    await nextEpoch();
    // Past the anchor re-read at the epoch's start, the served sheet is still refused, and counted.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await outputPrice()).toBe(sevenDollars);
    expect(await refusals()).toBe(refusedBefore + 1);
  });
});
