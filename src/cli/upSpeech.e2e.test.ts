/**
 * Text to speech through `perdiem up` as a user runs it: a real `up` process routed with `--upstream` to a loopback
 * server that replays the recorded audio (gateway/providers/openai/fixtures/speech.mp3), `--upstream-speech-models`,
 * and the official openai client with the demo key from state.json, charged at the default speech price.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulDivUp } from '../core/money.ts';
import {
  fixtureBytes,
  type ReplayServer,
  startReplayServer,
} from '../gateway/providers/openai/fixtures/replayServer.ts';
import { defaultSpeechPrice } from './stack/operatorSettings.ts';
import { readStackState, type StackState } from './stateFile.ts';
import { startUpProcess, stopUpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-speech-'));
const audio = fixtureBytes('speech.mp3');

async function diemBalanceNano(state: StackState, apiKey: string): Promise<bigint> {
  const response = await fetch(`${state.gatewayUrl}/api/v1/billing/balance`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { balances: { diem: number } };
  return BigInt(Math.round(body.balances.diem * 1e9));
}

// Starts a whole stack (chain, gateway): a generous timeout for a loaded 2-core machine.
describe('perdiem up serving speech (recorded upstream fixture)', { timeout: 180_000 }, () => {
  let upstream: ReplayServer;

  beforeAll(async () => {
    upstream = await startReplayServer();
    // The upstream lists a chat model and the speech model; `up` keeps the speech model out of the text models.
    const listing = { object: 'list', data: [{ id: 'upstream-chat' }, { id: 'tts-1' }] };
    upstream.setBehaviour('/models', { kind: 'status', status: 200, body: JSON.stringify(listing) });
    upstream.setBehaviour('/audio/speech', { kind: 'replay', fixture: 'speech.mp3' });
  });
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers the upstream audio and charges its characters at the default $15 per 1M', async () => {
    const running = await startUpProcess(home, {
      args: ['--upstream', upstream.baseUrl, '--upstream-speech-models', 'tts-1'],
    });
    try {
      expect(running.state.models).toEqual(['upstream-chat']);
      // The key as a script finds it: in state.json under --home.
      const state = readStackState(home)!;
      const apiKey = state.demo!.apiKey;
      const before = await diemBalanceNano(state, apiKey);

      const client = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey, maxRetries: 0 });
      // 13 characters (code points): the emoji is one character, two UTF-16 units.
      const input = 'héllo wörld 👋';
      const { data, response } = await client.audio.speech
        .create({ model: 'tts-1', input, voice: 'alloy', response_format: 'mp3' })
        .withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/mpeg');
      expect(Buffer.from(await data.arrayBuffer()).equals(audio)).toBe(true);
      expect(upstream.requests.at(-1)).toMatchObject({ path: '/audio/speech', body: { model: 'tts-1', input } });

      expect(defaultSpeechPrice).toEqual({ kind: 'speech', per1MCharacters: 15_000_000_000n });
      const charge = mulDivUp(13n, 15_000_000_000n, 1_000_000n);
      expect(charge).toBe(195_000n);
      expect(await diemBalanceNano(state, apiKey)).toBe(before - charge);
    } finally {
      expect(await stopUpProcess(running)).toBe(0);
    }
  });
});
