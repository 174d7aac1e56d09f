/**
 * One compute measure, on real inference: two demo GGUFs of clearly different compute (random weights) served in
 * process by node-llama-cpp (threads: 1) through the real gateway on a SQLite file, each on its own llama provider.
 * Real requests through the official openai client; the gateway's engine timings must put the larger model's CU per
 * output token above the smaller one's, in roughly the ratio of their multiply-adds per token. The measurements are
 * then read through the operator API, /metrics and the CLI; calibration proposes prices in the same ratio, which
 * `perdiem prices calibrate --apply` announces for the next epoch; the measurements are inherited by a model that
 * names a predecessor, and kept across a gateway restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { captureIo } from '../../cli/testing/captureIo.ts';
import { epochAt } from '../../core/epoch.ts';
import type { PriceBook } from '../../core/pricing.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { gatewayLogger } from '../app.ts';
import { createProviderRegistry, type ProviderConfig, type ProviderRegistry } from '../providers/index.ts';
import { demoModelMacsPerToken, demoModelShapes, writeDemoModel } from '../providers/llama/demoModel.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { testLlama } from '../testing/fixture.ts';
import type { MeasurementJson } from './measurementJson.ts';

const operatorToken = 'operator-measure-token';
const smaller = 'demo-medium';
const larger = 'demo-large';
const rounds = 6;
/**
 * Long enough that one lost scheduler time slice (the machine runs other work) is a small part of a request's
 * engine time; the smaller model's requests are the shortest.
 */
const outputTokens = 64;
const prompt = (round: number) =>
  `Round ${round}: ${'tell me about per diem tokens, daily capacity and the compute each model needs. '.repeat(6)}`;

const textPrice = { kind: 'text', inputPer1M: 1_000_000_000n, outputPer1M: 2_000_000_000n } as const;
const prices: PriceBook = { versions: [{ effectiveFromMs: 0, models: { [smaller]: textPrice, [larger]: textPrice } }] };

interface Running {
  ledger: Ledger;
  registry: ProviderRegistry;
  server: GatewayServer;
}

describe('compute measured from real inference (node-llama-cpp, threads 1, SQLite file)', () => {
  let directory: string;
  let providers: ProviderConfig[];
  let running: Running;
  let apiKey: string;

  const start = async (): Promise<Running> => {
    const ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
    const registry = createProviderRegistry(providers, { now: Date.now, llama: testLlama });
    const server = await startGatewayServer({
      ledger,
      registry,
      prices,
      logger: gatewayLogger('silent'),
      operatorToken,
      // A bound wide enough that calibration moves straight to the measured cost (the bound has its own tests).
      pricing: { stepBpsMax: 1_000_000 },
    });
    return { ledger, registry, server };
  };
  const stop = async ({ ledger, registry, server }: Running) => {
    await server.close();
    await registry.close();
    await ledger.close();
  };
  const admin = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${running.server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as { data: MeasurementJson[] } };
  };
  const own = (rows: MeasurementJson[]) => rows.filter((row) => row.inheritedFrom === null);
  const find = (rows: MeasurementJson[], model: string) => {
    const row = own(rows).find((one) => one.model === model && one.kind === 'text');
    if (!row) throw new Error(`no text measurement of ${model}`);
    return row;
  };

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-measure-'));
    const small = await writeDemoModel(join(directory, 'medium.gguf'), demoModelShapes.medium);
    const large = await writeDemoModel(join(directory, 'large.gguf'), demoModelShapes.large);
    providers = [
      { kind: 'llama', id: 'cpu-a', models: [{ id: smaller, path: small.path, contextSize: 512 }], threads: 1 },
      { kind: 'llama', id: 'cpu-b', models: [{ id: larger, path: large.path, contextSize: 512 }], threads: 1 },
    ];
    running = await start();
    const account = await running.ledger.createAccount();
    await running.ledger.setDiemAllowance(account.id, epochAt(Date.now()), 1_000_000_000_000n);
    apiKey = (await running.ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'measure' })).secret;
  }, 60_000);

  afterAll(async () => {
    if (running) await stop(running);
    await rm(directory, { recursive: true, force: true });
  });

  it('measures CU per output token in the direction and roughly the ratio of the models’ compute', async () => {
    const client = new OpenAI({ baseURL: `${running.server.url}/v1`, apiKey, maxRetries: 0 });
    // Interleaved, so that whatever else the machine runs weighs on both models alike; a new prompt each round, so
    // that prefill is not skipped by the prefix the engine kept from the last request.
    for (let round = 0; round < rounds; round++) {
      for (const model of [smaller, larger]) {
        const request = {
          model,
          messages: [{ role: 'user' as const, content: prompt(round) }],
          max_tokens: outputTokens,
          temperature: 0,
        };
        if (round % 2 === 0) {
          const answer = await client.chat.completions.create(request);
          expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
        } else {
          const stream = await client.chat.completions.create({ ...request, stream: true });
          for await (const _ of stream) {
            // drain
          }
        }
      }
    }
    const { status, body } = await admin('/admin/measurements');
    expect(status).toBe(200);
    const a = find(body.data, smaller);
    const b = find(body.data, larger);
    expect([a.provider, b.provider]).toEqual(['cpu-a', 'cpu-b']);
    expect([a.samples, b.samples]).toEqual([rounds, rounds]);
    const measured = Number(b.cu.outputPer1M) / Number(a.cu.outputPer1M);
    const expected = demoModelMacsPerToken(demoModelShapes.large) / demoModelMacsPerToken(demoModelShapes.medium);
    const prefillRatio = Number(b.cu.inputPer1M) / Number(a.cu.inputPer1M);
    console.log(
      `compute measure: decode CU ratio ${measured.toFixed(2)}, prefill ${prefillRatio.toFixed(2)}, expected ${expected.toFixed(2)} (multiply-adds per token)`,
    );
    expect(measured).toBeGreaterThan(1);
    expect(measured).toBeGreaterThanOrEqual(expected / 3);
    expect(measured).toBeLessThanOrEqual(expected * 3);
    expect(prefillRatio).toBeGreaterThan(1);

    const metrics = await (await fetch(`${running.server.url}/metrics`)).text();
    expect(metrics).toContain(
      `perdiem_compute_decode_seconds_per_token{model="${larger}",provider="cpu-b",kind="text"} ${b.decodeSecondsPerToken}`,
    );
    expect(metrics).toContain(
      `perdiem_compute_cu_per_1m_tokens{model="${larger}",provider="cpu-b",kind="text",phase="output"} ${b.cu.outputPer1M}`,
    );
    expect(metrics).toContain(`perdiem_compute_samples{model="${smaller}",provider="cpu-a",kind="text"} ${rounds}`);

    const cli = captureIo(directory);
    const code = await main(
      ['models', 'measurements', '--json', '--gateway', running.server.url, '--operator-token', operatorToken],
      cli.io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(cli.stdout())).toEqual(body.data);
  }, 120_000);

  it('calibrates prices that follow the measured compute, and announces them for the next epoch', async () => {
    const proposal = (await (
      await admin('/admin/prices/proposal')
    ).body) as unknown as {
      data: {
        effectiveFrom: string;
        models: { model: string; proposed: { outputPer1M: string }; clamped: boolean; cu: { outputPer1M: string } }[];
      };
    };
    const proposed = (model: string) => {
      const row = proposal.data.models.find((one) => one.model === model);
      if (!row) throw new Error(`no proposal for ${model}`);
      expect(row.clamped).toBe(false);
      return { price: Number(row.proposed.outputPer1M), cu: Number(row.cu.outputPer1M) };
    };
    const [a, b] = [proposed(smaller), proposed(larger)];
    // Each price is CU × CU price × margin rounded up to a nano-USD: the prices' ratio is the CU ratio.
    expect(b.price).toBeGreaterThan(a.price);
    expect(b.price / a.price).toBeCloseTo(b.cu / a.cu, 3);
    expect(a.price).not.toBe(Number(textPrice.outputPer1M) / 1e9);

    const cli = captureIo(directory);
    const code = await main(
      ['prices', 'calibrate', '--apply', '--json', '--gateway', running.server.url, '--operator-token', operatorToken],
      cli.io,
    );
    expect(code).toBe(0);
    const models = (await (
      await fetch(`${running.server.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as {
      data: { id: string; model_spec: { pricing: { next?: { effective_from: string; output: { usd: number } } } } }[];
    };
    for (const [model, expected] of [
      [smaller, a],
      [larger, b],
    ] as const) {
      const next = models.data.find((one) => one.id === model)?.model_spec.pricing.next;
      expect(next?.effective_from).toBe(proposal.data.effectiveFrom);
      expect(next?.output.usd).toBeCloseTo(expected.price, 9);
    }
  }, 60_000);

  it('a model that names a predecessor inherits its measurements until it has samples of its own', async () => {
    const patched = await admin(`/admin/models/${larger}`, {
      method: 'PATCH',
      body: JSON.stringify({ predecessor: smaller }),
    });
    expect(patched.status).toBe(200);
    const { body } = await admin('/admin/measurements');
    const inherited = body.data.filter((row) => row.inheritedFrom !== null);
    expect(inherited).toEqual([{ ...find(body.data, smaller), model: larger, inheritedFrom: smaller }]);
    const self = await admin(`/admin/models/${larger}`, {
      method: 'PATCH',
      body: JSON.stringify({ predecessor: larger }),
    });
    expect(self.status).toBe(400);
    await admin(`/admin/models/${larger}`, { method: 'PATCH', body: JSON.stringify({ predecessor: null }) });
    expect((await admin('/admin/measurements')).body.data.every((row) => row.inheritedFrom === null)).toBe(true);
  });

  it('keeps the measurements across a gateway restart (SQLite file)', async () => {
    const before = own((await admin('/admin/measurements')).body.data);
    expect(before.length).toBeGreaterThanOrEqual(2);
    await stop(running);
    running = await start();
    const after = own((await admin('/admin/measurements')).body.data);
    expect(after).toEqual(before);
  }, 60_000);
});
