import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeModels } from './testing/fakeRegistry.ts';
import { type InProcessGateway, startInProcessGateway } from './testing/inProcess.ts';
import { chatCompletionSchema } from './validate/schemas.ts';

const model = fakeModels.text;
const user = [{ role: 'user', content: 'hi' }];
const chat = (extra: Record<string, unknown>) => ({ model, messages: user, ...extra });

interface Case {
  name: string;
  path?: string;
  /** A raw body string, or a value sent as JSON. */
  raw?: string;
  json?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
  status: number;
  param?: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'no body', raw: '', status: 400, message: /body is empty/ },
  { name: 'a body of white space', raw: ' \n\t ', status: 400, message: /body is empty/ },
  { name: 'invalid JSON', raw: '{"model":', status: 400, message: /not valid JSON/ },
  {
    name: 'a body over 1 MiB in 3-byte characters (fewer than 1 Mi characters)',
    raw: JSON.stringify({ model, messages: [{ role: 'user', content: '€'.repeat(400_000) }] }),
    status: 400,
    message: /over 1048576 bytes/,
  },
  { name: 'a body over 1 MiB', raw: `"${'a'.repeat(1024 * 1024)}"`, status: 400, message: /over 1048576 bytes/ },
  { name: 'JSON array', json: [], status: 400 },
  { name: 'JSON string', json: 'hello', status: 400 },
  { name: 'JSON null', raw: 'null', status: 400 },
  { name: 'empty object', json: {}, status: 400, param: 'model' },
  { name: 'model is a number', json: { model: 123, messages: user }, status: 400, param: 'model' },
  { name: 'model is empty', json: { model: '', messages: user }, status: 400, param: 'model' },
  { name: 'unknown model', json: { model: 'no-such-model', messages: user }, status: 404, param: 'model' },
  { name: 'model without a price', json: { model: fakeModels.unpriced, messages: user }, status: 400, param: 'model' },
  { name: 'chat on an embedding-only model', json: { model: fakeModels.embed, messages: user }, status: 400 },
  { name: 'messages missing', json: { model }, status: 400, param: 'messages' },
  { name: 'messages empty', json: { model, messages: [] }, status: 400, param: 'messages' },
  { name: 'messages a string', json: { model, messages: 'hi' }, status: 400, param: 'messages' },
  { name: 'message without role', json: { model, messages: [{ content: 'x' }] }, status: 400 },
  { name: 'unknown role', json: { model, messages: [{ role: 'wizard', content: 'x' }] }, status: 400 },
  { name: 'user message without content', json: { model, messages: [{ role: 'user' }] }, status: 400 },
  { name: 'content a number', json: { model, messages: [{ role: 'user', content: 5 }] }, status: 400 },
  {
    name: 'unknown content part',
    json: { model, messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
    status: 400,
  },
  {
    name: 'text part without text',
    json: { model, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
    status: 400,
  },
  { name: 'temperature above 2', json: chat({ temperature: 3 }), status: 400, param: 'temperature' },
  { name: 'temperature negative', json: chat({ temperature: -1 }), status: 400, param: 'temperature' },
  { name: 'temperature a string', json: chat({ temperature: 'hot' }), status: 400, param: 'temperature' },
  { name: 'top_p zero', json: chat({ top_p: 0 }), status: 400, param: 'top_p' },
  { name: 'top_p above 1', json: chat({ top_p: 1.5 }), status: 400, param: 'top_p' },
  { name: 'max_tokens zero', json: chat({ max_tokens: 0 }), status: 400, param: 'max_tokens' },
  { name: 'max_tokens negative', json: chat({ max_tokens: -5 }), status: 400, param: 'max_tokens' },
  { name: 'max_tokens fractional', json: chat({ max_tokens: 1.5 }), status: 400, param: 'max_tokens' },
  { name: 'max_tokens a string', json: chat({ max_tokens: '10' }), status: 400, param: 'max_tokens' },
  { name: 'max_completion_tokens zero', json: chat({ max_completion_tokens: 0 }), status: 400 },
  { name: 'n = 2', json: chat({ n: 2 }), status: 400, param: 'n' },
  { name: 'stream a string', json: chat({ stream: 'yes' }), status: 400, param: 'stream' },
  { name: 'stream_options without stream', json: chat({ stream_options: { include_usage: true } }), status: 400 },
  {
    name: 'stream_options bad field',
    json: chat({ stream: true, stream_options: { include_usage: 'x' } }),
    status: 400,
  },
  { name: 'five stop sequences', json: chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), status: 400, param: 'stop' },
  { name: 'stop a number', json: chat({ stop: 5 }), status: 400, param: 'stop' },
  { name: 'presence_penalty above 2', json: chat({ presence_penalty: 3 }), status: 400 },
  { name: 'frequency_penalty below -2', json: chat({ frequency_penalty: -3 }), status: 400 },
  { name: 'logit_bias key not a token id', json: chat({ logit_bias: { abc: 1 } }), status: 400 },
  { name: 'logit_bias out of range', json: chat({ logit_bias: { '1': 200 } }), status: 400 },
  { name: 'seed fractional', json: chat({ seed: 1.5 }), status: 400, param: 'seed' },
  { name: 'unknown parameter', json: chat({ foo: 1 }), status: 400, param: 'foo' },
  { name: 'misspelt parameter', json: chat({ max_token: 5 }), status: 400, param: 'max_token' },
  { name: 'top_logprobs too large', json: chat({ top_logprobs: 50 }), status: 400 },
  { name: 'tools a string', json: chat({ tools: 'x' }), status: 400, param: 'tools' },
  { name: 'response_format xml', json: chat({ response_format: { type: 'xml' } }), status: 400 },
  { name: 'user too long', json: chat({ user: 'u'.repeat(300) }), status: 400, param: 'user' },
  { name: 'body over 1 MiB', json: chat({ user: 'u'.repeat(1_100_000) }), status: 400 },
  {
    name: 'too many messages',
    json: { model, messages: Array.from({ length: 2_049 }, () => user[0]) },
    status: 400,
    param: 'messages',
  },
  { name: 'Idempotency-Key too long', json: chat({}), headers: { 'idempotency-key': 'k'.repeat(300) }, status: 400 },
  { name: 'no API key', json: chat({}), key: null, status: 401 },
  { name: 'unknown API key', json: chat({}), key: 'pd_not_a_key', status: 401 },
  { name: 'Basic auth', json: chat({}), headers: { authorization: 'Basic dXNlcjpwYXNz' }, status: 401 },
  { name: 'completion without prompt', path: '/v1/completions', json: { model }, status: 400, param: 'prompt' },
  { name: 'completion prompt a number', path: '/v1/completions', json: { model, prompt: 5 }, status: 400 },
  { name: 'completion prompt empty list', path: '/v1/completions', json: { model, prompt: [] }, status: 400 },
  { name: 'completion with echo', path: '/v1/completions', json: { model, prompt: 'x', echo: true }, status: 400 },
  { name: 'completion best_of 3', path: '/v1/completions', json: { model, prompt: 'x', best_of: 3 }, status: 400 },
  { name: 'embedding without input', path: '/v1/embeddings', json: { model }, status: 400, param: 'input' },
  { name: 'embedding of an empty string', path: '/v1/embeddings', json: { model, input: '' }, status: 400 },
  { name: 'embedding of an empty list', path: '/v1/embeddings', json: { model, input: [] }, status: 400 },
  { name: 'embedding of token ids', path: '/v1/embeddings', json: { model, input: [1, 2, 3] }, status: 400 },
  {
    name: 'embedding encoding hex',
    path: '/v1/embeddings',
    json: { model, input: 'x', encoding_format: 'hex' },
    status: 400,
  },
  {
    name: 'embedding of 257 inputs',
    path: '/v1/embeddings',
    json: { model, input: Array.from({ length: 257 }, () => 'x') },
    status: 400,
  },
  { name: 'image without prompt', path: '/v1/images/generations', json: { model: 'fake-image' }, status: 400 },
  {
    name: 'image size not WxH',
    path: '/v1/images/generations',
    json: { model, prompt: 'x', size: 'big' },
    status: 400,
  },
  { name: 'image on a text model', path: '/v1/images/generations', json: { model, prompt: 'a cat' }, status: 400 },
  { name: 'usage history bad limit', path: '/api/v1/billing/usage-history?limit=0', status: 400, param: 'limit' },
  { name: 'usage history bad date', path: '/api/v1/billing/usage-history?startDate=yesterday', status: 400 },
  {
    name: 'key creation with an INFERENCE key',
    path: '/api/v1/api_keys',
    json: { apiKeyType: 'ADMIN', description: 'x' },
    status: 403,
  },
  { name: 'admin route without operator token', path: '/admin/prices', status: 401 },
  { name: 'unknown route', path: '/v1/nothing', status: 404 },
];

describe('bad input: every malformed request is a 4xx OpenAI error and leaves the ledger untouched', () => {
  let gw: InProcessGateway;

  beforeAll(async () => {
    gw = await startInProcessGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function ledgerState() {
    const balance = await gw.ledger.balance(gw.accountId);
    const journal = await gw.ledger.journal({ limit: 10_000 });
    return { available: balance.diem.availableNano, reserved: balance.diem.reservedNano, journal: journal.length };
  }

  async function send(c: Case): Promise<Response> {
    const path = c.path ?? '/v1/chat/completions';
    const post = c.raw !== undefined || c.json !== undefined;
    return gw.request(path, {
      method: post ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', ...c.headers },
      ...(c.raw !== undefined ? { body: c.raw } : c.json !== undefined ? { body: JSON.stringify(c.json) } : {}),
      ...(c.key !== undefined ? { key: c.key } : {}),
    });
  }

  it(`has at least 50 distinct cases (${cases.length})`, () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases)('$name → $status', async (c) => {
    const before = await ledgerState();
    const response = await send(c);
    const body = (await response.json()) as { error: { message: string; type: string; code: string; param: unknown } };
    expect(response.status).toBe(c.status);
    expect(typeof body.error.message).toBe('string');
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(typeof body.error.type).toBe('string');
    expect(typeof body.error.code).toBe('string');
    expect('param' in body.error).toBe(true);
    if (c.param) expect(body.error.param).toBe(c.param);
    if (c.message) expect(body.error.message).toMatch(c.message);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await ledgerState()).toEqual(before);
  });

  it('answers every fuzzed body that the schema rejects with a 4xx and no ledger change, and never a 5xx', async () => {
    const field = fc.constantFrom(
      'model',
      'messages',
      'max_tokens',
      'temperature',
      'top_p',
      'stream',
      'stop',
      'n',
      'seed',
      'logit_bias',
      'stream_options',
      'tools',
      'unknown_field',
    );
    const mutated = fc
      .tuple(field, fc.jsonValue())
      .map(([name, value]) => ({ model, messages: user, max_tokens: 3, [name]: value }));
    const arbitraryBody = fc.oneof(mutated, fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()));
    await fc.assert(
      fc.asyncProperty(arbitraryBody, async (body) => {
        const before = await ledgerState();
        const response = await gw.request('/v1/chat/completions', { method: 'POST', body: JSON.stringify(body) });
        expect(response.status).toBeLessThan(500);
        const valid = chatCompletionSchema.safeParse(body).success;
        if (valid && response.status === 200) return;
        expect(response.status).toBeGreaterThanOrEqual(400);
        const json = (await response.json()) as { error: { message: string; type: string } };
        expect(typeof json.error.message).toBe('string');
        expect(await ledgerState()).toEqual(before);
      }),
      { numRuns: 300, seed: 20_250_102 },
    );
  });
});
