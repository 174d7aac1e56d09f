/**
 * Calibration through the real server on a port (fake clock, settings and ledger in one SQLite file), driven by the
 * CLI (`perdiem prices calibrate --apply`) and the official `openai` client. The CU estimates are given as `ModelCu`
 * values through the `ComputeMeasurements` interface (what the measured estimates implement).
 *
 * - A sudden 10× cost rise moves the price by at most the bound per epoch, converging on the target over several
 *   epochs; each sheet takes effect exactly at its boundary: a request 1 ms before is priced by the old sheet, one at
 *   the boundary by the new, and nothing is in force mid-epoch.
 * - Automatic calibration announces once per epoch, and a second gateway on the same settings (a replica, or the same
 *   gateway restarted) does not announce again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { captureIo } from '../../cli/testing/captureIo.ts';
import type { ComputeMeasurements, ModelCu } from '../../core/computeUnits.ts';
import { epochAt } from '../../core/epoch.ts';
import { parseUsd } from '../../core/money.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { gatewayLogger } from '../app.ts';
import { rateLimitsDefault } from '../limits.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { type OperatorSettings, openOperatorSettingsFor } from '../settings/operatorSettings.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../testing/fakeRegistry.ts';
import { operatorToken } from '../testing/fixture.ts';
import { computeMeasurementsOf } from './computeMeasurementsOf.ts';

const epochMs = 86_400_000;
const model = fakeModels.text;
/** $1 and $4 per 1M tokens at $0.001 per CU and no margin: the fake price book's own price. */
const steadyCu = (factor: bigint): ModelCu => ({
  model,
  kind: 'text',
  inputPer1MMicroCu: 1_000n * 1_000_000n * factor,
  outputPer1MMicroCu: 4_000n * 1_000_000n * factor,
  samples: 100,
  inheritedFrom: null,
});

interface Running {
  server: GatewayServer;
  settings: OperatorSettings;
  close(): Promise<void>;
}

let directory: string;
let sqlitePath: string;
let ledger: Ledger;
let nowMs = Date.UTC(2025, 5, 1, 15);
const clock = () => nowMs;
let estimates: ModelCu[] = [steadyCu(1n)];
/** Reads `estimates` at each call, so the test can change the fleet's cost. */
const compute: ComputeMeasurements = {
  cuOf: (id) => computeMeasurementsOf(estimates).cuOf(id),
  all: () => estimates,
};

async function start(options: { autoCalibrate?: boolean } = {}): Promise<Running> {
  const settings = await openOperatorSettingsFor({
    sqlitePath,
    defaults: { prices: fakePriceBook, rateLimits: rateLimitsDefault },
    clock,
    pollIntervalMs: 0,
  });
  const server = await startGatewayServer({
    ledger,
    registry: fakeRegistry(),
    prices: fakePriceBook,
    settings,
    clock,
    compute,
    pricing: { cuPriceNano: 1_000_000n, marginBps: 0, stepBpsMax: 5_000 },
    logger: gatewayLogger('silent'),
    operatorToken,
    ...(options.autoCalibrate ? { autoCalibrate: true, calibrateIntervalMs: 20 } : {}),
  });
  return {
    server,
    settings,
    async close() {
      await server.close();
      await settings.close();
    },
  };
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'perdiem-calibration-'));
  sqlitePath = join(directory, 'ledger.sqlite');
  ledger = openSqliteLedger({ path: sqlitePath, clock });
});
afterAll(async () => {
  await ledger.close();
  await rm(directory, { recursive: true, force: true });
});

describe('calibration over epochs', () => {
  let running: Running;
  let openai: OpenAI;
  beforeAll(async () => {
    running = await start();
    const account = await ledger.createAccount();
    await ledger.addFunds({ accountId: account.id, source: 'CREDITS', amountNano: 100_000_000_000n, reference: 'e2e' });
    const key = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'e2e' });
    openai = new OpenAI({ apiKey: key.secret, baseURL: `${running.server.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => running?.close());

  const cli = async (...argv: string[]) => {
    const captured = captureIo(directory);
    const code = await main([...argv, '--gateway', running.server.url, '--operator-token', operatorToken], captured.io);
    return { code, out: captured.stdout(), err: captured.stderr() };
  };
  /** The error code of an operator POST that is refused. */
  const operator = async (path: string, body: unknown) => {
    const response = await fetch(`${running.server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    return ((await response.json()) as { error: { code: string } }).error.code;
  };
  /** What a chat of 7 prompt and 5 output tokens costs now, in nano-USD. */
  const chatCost = async () => {
    const completion = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    });
    return BigInt((completion as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd);
  };
  const costAt = (inputPer1M: bigint, outputPer1M: bigint) =>
    (7n * inputPer1M + 999_999n) / 1_000_000n + (5n * outputPer1M + 999_999n) / 1_000_000n;

  it('follows a 10× cost rise by at most the bound per epoch, each sheet in force exactly from its boundary', async () => {
    const steady = await cli('prices', 'calibrate');
    expect(steady.code).toBe(0);
    expect(steady.out).toMatch(new RegExp(`^${model}\\s+inputPer1M\\s+\\$1\\s+\\$1\\s+0%\\s*$`, 'm'));

    estimates = [steadyCu(10n)];
    let price = { input: 1_000_000_000n, output: 4_000_000_000n };
    const inputs: bigint[] = [];
    for (let step = 1; step <= 7; step++) {
      const boundary = (epochAt(nowMs) + 1) * epochMs;
      const applied = await cli('prices', 'calibrate', '--apply', '--json');
      expect(applied.err).toBe('');
      const { proposal, announced } = JSON.parse(applied.out);
      expect(announced.effectiveFrom).toBe(new Date(boundary).toISOString());
      const next = proposal.models.find((m: { model: string }) => m.model === model).proposed;
      const proposed = { input: parseUsd(next.inputPer1M), output: parseUsd(next.outputPer1M) };
      // Never more than +50% of the sheet in force, never past the target ($10 / $40).
      for (const field of ['input', 'output'] as const) {
        expect(proposed[field] * 10_000n <= price[field] * 15_000n).toBe(true);
        expect(proposed[field] <= price[field] * 10n).toBe(true);
      }
      inputs.push(proposed.input);

      // The boundary has its sheet; nothing may take effect mid-epoch; the announced sheet is not in force yet.
      expect(await operator('/admin/prices/announce', { effectiveFrom: announced.effectiveFrom })).toBe(
        'price_sheet_out_of_order',
      );
      const midEpoch = new Date(nowMs + 60_000).toISOString();
      expect(await operator('/admin/prices', { effectiveFrom: midEpoch, models: {} })).toBe('price_sheet_mid_epoch');
      nowMs = boundary - 1;
      expect(await chatCost()).toBe(costAt(price.input, price.output));
      nowMs = boundary;
      expect(await chatCost()).toBe(costAt(proposed.input, proposed.output));
      price = proposed;
      nowMs += epochMs / 2;
    }
    expect(inputs.map((nano) => Number(nano) / 1e9)).toEqual([1.5, 2.25, 3.375, 5.0625, 7.59375, 10, 10]);
    const models = await openai.models.list();
    const spec = (models.data.find((m) => m.id === model) as unknown as { model_spec: Record<string, unknown> })
      .model_spec;
    expect(spec.compute_units).toEqual({
      input_per_1m: 10_000,
      output_per_1m: 40_000,
      samples: 100,
      inherited_from: null,
    });

    const history = await cli('prices', 'history', model, '--json');
    const points = JSON.parse(history.out).points as { price: { inputPer1M: string } }[];
    expect(points.map((point) => point.price.inputPer1M)).toEqual([
      '1',
      '1.5',
      '2.25',
      '3.375',
      '5.0625',
      '7.59375',
      '10',
      '10',
    ]);
  });

  it('announces with pricing.next in /v1/models, and a change past the bound only with --override --reason', async () => {
    estimates = [steadyCu(1n)];
    const boundary = (epochAt(nowMs) + 1) * epochMs;
    const refused = await cli('prices', 'set', model, '--input-per-1m', '1', '--output-per-1m', '4');
    expect(refused.err).toMatch(/gateway answered 400 \(price_change_exceeds_bound\)/);
    const overridden = await cli(
      ...['prices', 'set', model, '--input-per-1m', '1', '--output-per-1m', '4'],
      ...['--override', '--reason', 'measured cost fell back'],
    );
    expect(overridden.err).toBe('');
    const models = await openai.models.list();
    const spec = (models.data.find((m) => m.id === model) as unknown as { model_spec: { pricing: unknown } })
      .model_spec;
    expect(spec.pricing).toMatchObject({
      input: { usd: 10 },
      next: {
        input: { usd: 1, diem: 1 },
        output: { usd: 4, diem: 4 },
        effective_from: new Date(boundary).toISOString(),
        notice: 'measured cost fell back',
      },
    });
  });
});

describe('automatic calibration', () => {
  it('announces once for the next epoch, not again after a restart or from a replica, and again the epoch after', async () => {
    nowMs = (epochAt(nowMs) + 3) * epochMs + 3_600_000;
    estimates = [steadyCu(2n)];
    const next = (epochAt(nowMs) + 1) * epochMs;
    const versionsFrom = (running: Running, atMs: number) =>
      running.settings.prices.current().versions.filter((v) => v.effectiveFromMs >= atMs);
    const first = await start({ autoCalibrate: true });
    const replica = await start({ autoCalibrate: true });
    try {
      await expect.poll(() => versionsFrom(first, next).length, { timeout: 5_000 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await replica.settings.refresh();
      expect(versionsFrom(replica, next)).toHaveLength(1);
      const announced = versionsFrom(first, next)[0]!;
      expect(announced.effectiveFromMs).toBe(next);
      expect(announced.models[model]).toMatchObject({ inputPer1M: 1_500_000_000n, outputPer1M: 6_000_000_000n });
      const history = await first.settings.history('prices', 1);
      expect(history[0]).toMatchObject({ actor: 'auto-calibrate', note: `calibrated from ${model} (100 samples)` });
    } finally {
      await replica.close();
      await first.close();
    }
    const restarted = await start({ autoCalibrate: true });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(versionsFrom(restarted, next)).toHaveLength(1);
      nowMs = next + 1_000;
      await expect.poll(() => versionsFrom(restarted, next + epochMs).length, { timeout: 5_000 }).toBe(1);
      expect(versionsFrom(restarted, next + epochMs)[0]!.models[model]).toMatchObject({ inputPer1M: 2_000_000_000n });
    } finally {
      await restarted.close();
    }
  });
});
