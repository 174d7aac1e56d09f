/**
 * Text to speech through the `openai` provider: the gateway on a port, the SQLite ledger, the official `openai`
 * client, and an upstream on loopback that replays the audio fixture (providers/openai/fixtures/speech.mp3). The first
 * upstream refuses connections, so every call fails over before its first byte.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulDivUp } from '../core/money.ts';
import type { Balance } from '../ledger/types.ts';
import {
  fixtureBytes,
  type ReplayServer,
  refusedPort,
  startReplayServer,
} from './providers/openai/fixtures/replayServer.ts';
import {
  demoModel,
  llamaConfig,
  operatorToken,
  startTestGateway,
  type TestGateway,
  writeTestModel,
} from './testing/fixture.ts';

const model = 'fixture-tts';
const unpriced = 'fixture-tts-unpriced';
/** $15.000000007 per 1M characters: the odd nano makes every charge round up. */
const per1MCharacters = 15_000_000_007n;
const audio = fixtureBytes('speech.mp3');

function spendable(b: Balance): bigint {
  return b.diem.availableNano + b.credits.availableNano + b.usd.availableNano;
}

function reserved(b: Balance): bigint {
  return b.diem.reservedNano + b.credits.reservedNano + b.usd.reservedNano;
}

type ApiError = InstanceType<typeof OpenAI.APIError>;

describe('speech through an OpenAI-compatible upstream (recorded upstream fixture)', () => {
  let upstream: ReplayServer;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startReplayServer();
    upstream.setBehaviour('/audio/speech', { kind: 'replay', fixture: 'speech.mp3' });
    const down = await refusedPort();
    gw = await startTestGateway({
      providers: async (dir) => [
        llamaConfig(await writeTestModel(dir)),
        {
          kind: 'openai',
          id: 'speech',
          upstreams: [
            { name: 'down', baseUrl: `http://127.0.0.1:${down}/v1` },
            { name: 'fixture', baseUrl: upstream.baseUrl, modelMap: { [model]: 'upstream-tts-1' } },
          ],
          models: [
            { id: model, capabilities: ['speech'] },
            { id: unpriced, capabilities: ['speech'] },
          ],
          retries: 0,
        },
      ],
    });
    const current = gw.prices.current().versions.at(-1)!;
    gw.prices.add({
      effectiveFromMs: current.effectiveFromMs + 1,
      models: { ...current.models, [model]: { kind: 'speech', per1MCharacters } },
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('answers the upstream audio and charges its characters at the sheet price, rounded up', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    // 7 characters (code points): the emoji is one character, two UTF-16 units.
    const input = 'héllo 👋';
    const { data, response } = await client.audio.speech
      .create({ model, input, voice: 'alloy', response_format: 'mp3', speed: 1.25 })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await data.arrayBuffer()).equals(audio)).toBe(true);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(response.headers.get('x-balance-diem')).toBe(String(Number(before.diem.availableNano) / 1e9));

    const charge = mulDivUp(7n, per1MCharacters, 1_000_000n);
    expect(charge).toBe(105_001n);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spendable(before) - spendable(after)).toBe(charge);
    expect(reserved(after)).toBe(0n);
    const history = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 1 });
    expect(history.items[0]).toMatchObject({ model, sku: 'speech.characters', units: 7, amountNano: charge });
    // The upstream got its own model id and the request as asked.
    expect(upstream.requests.at(-1)).toMatchObject({
      path: '/audio/speech',
      body: { model: 'upstream-tts-1', input, voice: 'alloy', response_format: 'mp3', speed: 1.25 },
    });
  });

  it('refuses bad input with an OpenAI-shaped 400 (404 for an unknown model), charging and calling nothing', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const calls = upstream.requests.length;
    const refusal = (body: Record<string, unknown>) =>
      client.audio.speech.create({ voice: 'alloy', model, input: 'hi', ...body } as never).then(
        () => null,
        (e: unknown) => e as ApiError,
      );
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ input: '' }, 400, 'input', 'invalid_value'],
      [{ input: 'x'.repeat(4097) }, 400, 'input', 'invalid_value'],
      [{ voice: undefined }, 400, 'voice', 'missing_required_parameter'],
      [{ speed: 9 }, 400, 'speed', 'invalid_value'],
      [{ model: 'no-such-model' }, 404, 'model', 'model_not_found'],
      [{ model: unpriced }, 400, 'model', 'model_not_priced'],
      // The llama provider serves no speech: its models do not declare the capability.
      [{ model: demoModel }, 400, 'model', 'model_not_supported'],
    ];
    for (const [body, status, param, code] of cases) {
      const error = await refusal(body);
      expect(error?.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(error?.error).toMatchObject({ param, code, type: expect.any(String), message: expect.any(String) });
    }
    expect(upstream.requests.length).toBe(calls);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spendable(after)).toBe(spendable(before));
    expect(reserved(after)).toBe(0n);
  });

  it('answers 502 to an upstream failure and charges nothing', async () => {
    upstream.setBehaviour('/audio/speech', { kind: 'status', status: 500 });
    try {
      const before = await gw.ledger.balance(gw.accountId);
      const error = await client.audio.speech
        .create({ model, input: 'fail', voice: 'alloy' })
        .catch((e: unknown) => e as ApiError);
      expect((error as ApiError).status).toBe(502);
      expect((error as ApiError).error).toMatchObject({ code: 'upstream_500' });
      const after = await gw.ledger.balance(gw.accountId);
      expect(spendable(after)).toBe(spendable(before));
      expect(reserved(after)).toBe(0n);
    } finally {
      upstream.setBehaviour('/audio/speech', { kind: 'replay', fixture: 'speech.mp3' });
    }
  });

  it('replays the audio of a retried idempotent request and charges it once', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const calls = upstream.requests.length;
    const ask = () =>
      client.audio.speech
        .create({ model, input: 'once', voice: 'nova' }, { headers: { 'idempotency-key': 'speech-once' } })
        .withResponse();
    const first = await ask();
    const second = await ask();
    expect(second.response.headers.get('idempotent-replayed')).toBe('true');
    expect(second.response.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await second.data.arrayBuffer()).equals(Buffer.from(await first.data.arrayBuffer()))).toBe(true);
    // One upstream call: the retry is answered from the kept audio.
    expect(upstream.requests.length - calls).toBe(1);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spendable(before) - spendable(after)).toBe(mulDivUp(4n, per1MCharacters, 1_000_000n));
  });

  it('lists the speech model with its price per 1M characters, in /v1/models and the admin price sheet', async () => {
    const models = await fetch(`${gw.baseURL}/models`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    const listed = ((await models.json()) as { data: { id: string; type: string; model_spec: unknown }[] }).data;
    expect(listed.find((m) => m.id === model)).toMatchObject({
      type: 'speech',
      model_spec: {
        capabilities: ['speech'],
        pricing: { input: { usd: 15.000000007, diem: 15.000000007 }, unit: 'per_1m_characters' },
      },
    });
    const sheets = await fetch(`${gw.server.url}/admin/prices`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    const versions = ((await sheets.json()) as { versions: { models: Record<string, unknown> }[] }).versions;
    expect(versions.at(-1)!.models[model]).toEqual({ kind: 'speech', per1MCharacters: '15.000000007' });
  });
});
