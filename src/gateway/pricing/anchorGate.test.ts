/**
 * The anchor gate against a real PriceRegistry on anvil: sheets take effect only when the hash anchored for their
 * epoch is theirs; the default sheet (before the registry) is exempt; refuse keeps the sheet before in force, warn
 * admits with a warning; both are logged and counted.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorSheet, readAnchor, readDeploymentEpoch, readRegistryClock } from '../../chain/priceRegistry.ts';
import { startTestChain, type TestChain } from '../../chain/testChain.ts';
import { epochStartMs } from '../../core/epoch.ts';
import { priceSheetHash } from '../../core/priceSheetHash.ts';
import type { PriceBook, PriceSheet } from '../../core/pricing.ts';
import { createGatewayMetrics } from '../metrics.ts';
import { createPriceBookStore } from '../priceBookStore.ts';
import { createAnchorGate, type UnanchoredPricesMode } from './anchorGate.ts';
import { gatedPriceBookStore } from './gatedPrices.ts';

const model = 'm';
const textPrice = (outputPer1M: bigint) => ({ kind: 'text' as const, inputPer1M: 1n, outputPer1M });
const defaultSheet: PriceSheet = { effectiveFromMs: 0, models: { [model]: textPrice(100n) } };

let chain: TestChain;
let registry: `0x${string}`;
let epochSeconds: number;
let nextEpoch: number;

beforeAll(async () => {
  chain = await startTestChain();
  registry = chain.contracts.priceRegistry!;
  const clock = await readRegistryClock(chain.client, registry);
  epochSeconds = clock.epochSeconds;
  nextEpoch = clock.currentEpoch + 1;
}, 60_000);
afterAll(() => chain?.stop());

function gateOn(mode: UnanchoredPricesMode, nowMs: () => number) {
  const lines: { level: number; msg: string; sheetHash?: string }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const metrics = createGatewayMetrics();
  return readDeploymentEpoch(chain.client, registry).then((deploymentEpoch) => ({
    lines,
    metrics,
    gate: createAnchorGate({
      readAnchor: (epoch) => readAnchor(chain.client, registry, epoch),
      deploymentEpoch,
      epochSeconds,
      mode,
      clock: nowMs,
      logger: pino({ level: 'info' }, sink),
      metrics,
    }),
  }));
}

function bookWith(...sheets: PriceSheet[]): PriceBook {
  return { versions: [defaultSheet, ...sheets] };
}

describe('anchor gate on a real PriceRegistry', { timeout: 60_000 }, () => {
  it('refuses an unanchored sheet at its epoch: the sheet before stays in force, logged and counted once', async () => {
    const startsMs = epochStartMs(nextEpoch, epochSeconds);
    const sheet: PriceSheet = { effectiveFromMs: startsMs, models: { [model]: textPrice(200n) } };
    const { gate, lines, metrics } = await gateOn('refuse', () => startsMs);
    const book = bookWith(sheet);
    await gate.refresh(book);
    const prices = gatedPriceBookStore(createPriceBookStore(book), gate, () => startsMs);
    expect(gate.admits(defaultSheet)).toBe(true);
    expect(prices.priceAt(model, startsMs)).toEqual(textPrice(100n));
    expect(prices.priceAt(model, startsMs + 1_000)).toEqual(textPrice(100n));
    expect(prices.current().versions).toEqual([defaultSheet]);
    const refusals = lines.filter((line) => line.level === 50);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.sheetHash).toBe(priceSheetHash(sheet));
    expect(refusals[0]!.msg).toMatch(/NOT anchored.*refused/);
    expect(metrics.render()).toContain('perdiem_price_sheets_unanchored_total{outcome="refused"} 1');
  });

  it('warn mode admits an unanchored sheet, with a warning and the warned count', async () => {
    const startsMs = epochStartMs(nextEpoch, epochSeconds);
    const sheet: PriceSheet = { effectiveFromMs: startsMs + 1, models: { [model]: textPrice(300n) } };
    const { gate, lines, metrics } = await gateOn('warn', () => startsMs);
    const book = bookWith(sheet);
    await gate.refresh(book);
    const prices = gatedPriceBookStore(createPriceBookStore(book), gate, () => startsMs);
    expect(prices.priceAt(model, startsMs + 1)).toEqual(textPrice(300n));
    expect(lines.some((line) => line.level === 40 && /NOT anchored.*in force anyway/.test(line.msg))).toBe(true);
    expect(metrics.render()).toContain('perdiem_price_sheets_unanchored_total{outcome="warned"} 1');
  });

  it('admits an anchored sheet from its first millisecond, and only the sheet whose hash is anchored', async () => {
    const startsMs = epochStartMs(nextEpoch + 1, epochSeconds);
    const sheet: PriceSheet = { effectiveFromMs: startsMs, models: { [model]: textPrice(400n) } };
    const tampered: PriceSheet = { effectiveFromMs: startsMs, models: { [model]: textPrice(401n) } };
    await anchorSheet(chain.deployer, chain.client, registry, {
      epoch: nextEpoch + 1,
      hash: priceSheetHash(sheet),
      uri: 'http://127.0.0.1/v1/prices/sheets/x',
    });
    const { gate, lines, metrics } = await gateOn('refuse', () => startsMs - 10_000);
    const book = bookWith(sheet);
    await gate.refresh(book);
    await gate.refresh(bookWith(tampered));
    const prices = gatedPriceBookStore(createPriceBookStore(book), gate, () => startsMs);
    expect(prices.priceAt(model, startsMs - 1)).toEqual(textPrice(100n));
    expect(prices.priceAt(model, startsMs)).toEqual(textPrice(400n));
    expect(gate.admits(tampered)).toBe(false);
    // Only the tampered sheet was reported; the anchored one never was.
    expect(lines.filter((line) => line.level === 50).map((line) => line.sheetHash)).toEqual([priceSheetHash(tampered)]);
    expect(metrics.render()).toContain('perdiem_price_sheets_unanchored_total{outcome="refused"} 1');
  });

  it('a sheet anchored after a refresh is admitted by the next refresh', async () => {
    const epoch = nextEpoch + 2;
    const startsMs = epochStartMs(epoch, epochSeconds);
    const sheet: PriceSheet = { effectiveFromMs: startsMs, models: { [model]: textPrice(500n) } };
    const { gate, lines } = await gateOn('refuse', () => startsMs - 60_000);
    await gate.refresh(bookWith(sheet));
    expect(lines.some((line) => line.level === 40 && /not anchored on chain yet/.test(line.msg))).toBe(true);
    await anchorSheet(chain.deployer, chain.client, registry, {
      epoch,
      hash: priceSheetHash(sheet),
      uri: 'http://127.0.0.1/v1/prices/sheets/y',
    });
    await gate.refresh(bookWith(sheet));
    expect(gate.admits(sheet)).toBe(true);
  });

  it('exempts the sheets that take effect in or before the deployment epoch', async () => {
    const deploymentEpoch = await readDeploymentEpoch(chain.client, registry);
    const { gate } = await gateOn('refuse', () => epochStartMs(nextEpoch, epochSeconds));
    const inDeploymentEpoch: PriceSheet = {
      effectiveFromMs: epochStartMs(deploymentEpoch, epochSeconds) + 5,
      models: { [model]: textPrice(600n) },
    };
    expect(gate.anchorEpochOf(defaultSheet)).toBeNull();
    expect(gate.admits(inDeploymentEpoch)).toBe(true);
    expect(gate.anchorEpochOf({ ...inDeploymentEpoch, effectiveFromMs: epochStartMs(nextEpoch, epochSeconds) })).toBe(
      nextEpoch,
    );
  });
});
