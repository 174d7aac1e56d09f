/**
 * Compute estimated from outside an upstream: the gateway's `openai` provider in front of scripts/llama-server.ts (a
 * real OpenAI-compatible server in a child process, serving a demo GGUF). Streams give prefill from the time to the
 * first token and decode from the tokens after it; non-streaming answers are split by those estimates.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCu } from '../../core/computeUnits.ts';
import { epochAt } from '../../core/epoch.ts';
import type { PriceBook } from '../../core/pricing.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { gatewayLogger } from '../app.ts';
import { createProviderRegistry, type ProviderRegistry } from '../providers/index.ts';
import { demoModelShapes, writeDemoModel } from '../providers/llama/demoModel.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';
import { testLlama } from '../testing/fixture.ts';
import { type LlamaServerProcess, startLlamaServerProcess } from '../testing/llamaServerProcess.ts';
import type { MeasurementJson } from './measurementJson.ts';

const operatorToken = 'operator-upstream-measure';
const model = 'demo-medium';
const prices: PriceBook = {
  versions: [
    {
      effectiveFromMs: 0,
      models: { [model]: { kind: 'text', inputPer1M: 1_000_000_000n, outputPer1M: 1_000_000_000n } },
    },
  ],
};

describe('compute estimated from an upstream (scripts/llama-server.ts as a real child process)', () => {
  let directory: string;
  let upstream: LlamaServerProcess;
  let ledger: Ledger;
  let registry: ProviderRegistry;
  let server: GatewayServer;
  let apiKey: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-upstream-measure-'));
    const written = await writeDemoModel(join(directory, 'medium.gguf'), demoModelShapes.medium);
    upstream = await startLlamaServerProcess(written.path, model);
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
    registry = createProviderRegistry(
      [
        {
          kind: 'openai',
          id: 'gpu-pool',
          upstreams: [{ name: 'llama-server', baseUrl: `${upstream.url}/v1` }],
          models: [{ id: model }],
          computeRate: { cuPerEngineSecond: 4, costPerHourUsd: '2' },
        },
      ],
      { now: Date.now, llama: testLlama },
    );
    server = await startGatewayServer({ ledger, registry, prices, logger: gatewayLogger('silent'), operatorToken });
    const account = await ledger.createAccount();
    await ledger.setDiemAllowance(account.id, epochAt(Date.now()), 1_000_000_000_000n);
    apiKey = (await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'measure' })).secret;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await registry?.close();
    await ledger?.close();
    await upstream?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('estimates prefill and decode per token from streams, splits whole answers by them, at the declared rate', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
    const request = (round: number) => ({
      model,
      messages: [{ role: 'user' as const, content: `Round ${round}: what does a compute unit measure?` }],
      max_tokens: 12,
      temperature: 0,
    });
    const read = async () => {
      const response = await fetch(`${server.url}/admin/measurements`, {
        headers: { authorization: `Bearer ${operatorToken}` },
      });
      return ((await response.json()) as { data: MeasurementJson[] }).data;
    };
    // A non-streaming answer before any stream cannot be split yet: it is not counted.
    await client.chat.completions.create(request(0));
    expect(await read()).toEqual([]);
    for (const round of [1, 2]) {
      const stream = await client.chat.completions.create({ ...request(round), stream: true });
      for await (const _ of stream) {
        // drain
      }
    }
    await client.chat.completions.create(request(3));
    const [row, ...others] = await read();
    expect(others).toEqual([]);
    expect(row).toMatchObject({ model, provider: 'gpu-pool', kind: 'text', samples: 3, inheritedFrom: null });
    expect(row!.prefillSecondsPerToken).toBeGreaterThan(0);
    expect(row!.decodeSecondsPerToken).toBeGreaterThan(0);
    // 4 CU per engine-second: CU per 1M output tokens is 4e6 × seconds per token (rounded up to a micro-CU).
    const expectedMicroCu = Math.ceil(row!.decodeSecondsPerToken! * 1e6 * 4_000_000);
    expect(row!.cu.outputPer1M).toBe(formatCu(BigInt(expectedMicroCu)));
  }, 120_000);
});
