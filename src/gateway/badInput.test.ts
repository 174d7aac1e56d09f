import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionSchema } from './kinds/chat/chatKind.ts';
import { fakeModels } from './testing/fakeRegistry.ts';
import { type InProcessGateway, startInProcessGateway } from './testing/inProcess.ts';

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
  /** Sent with the account's ADMIN key (the api_keys routes). */
  admin?: boolean;
  method?: string;
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
  {
    name: 'model is a number',
    json: { model: 123, messages: user },
    status: 400,
    param: 'model',
    message: /^model must be a string, got a number \(123\)$/,
  },
  { name: 'model is empty', json: { model: '', messages: user }, status: 400, param: 'model' },
  { name: 'unknown model', json: { model: 'no-such-model', messages: user }, status: 404, param: 'model' },
  { name: 'model without a price', json: { model: fakeModels.unpriced, messages: user }, status: 400, param: 'model' },
  { name: 'chat on an embedding-only model', json: { model: fakeModels.embed, messages: user }, status: 400 },
  { name: 'messages missing', json: { model }, status: 400, param: 'messages', message: /^messages is required$/ },
  { name: 'messages empty', json: { model, messages: [] }, status: 400, param: 'messages' },
  {
    name: 'messages a string',
    json: { model, messages: 'hi' },
    status: 400,
    param: 'messages',
    message: /^messages must be an array, got a string/,
  },
  {
    name: 'message without role',
    json: { model, messages: [{ content: 'x' }] },
    status: 400,
    param: 'messages[0].role',
    message: /is required/,
  },
  { name: 'unknown role', json: { model, messages: [{ role: 'wizard', content: 'x' }] }, status: 400 },
  { name: 'user message without content', json: { model, messages: [{ role: 'user' }] }, status: 400 },
  {
    name: 'content a number',
    json: { model, messages: [{ role: 'user', content: 5 }] },
    status: 400,
    param: 'messages[0].content',
    message: /^messages\[0\]\.content must be a string, an array or null, got a number \(5\)$/,
  },
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
  {
    name: 'temperature a string',
    json: chat({ temperature: 'hot' }),
    status: 400,
    param: 'temperature',
    message: /^temperature must be a number, got a string \("hot"\)$/,
  },
  { name: 'top_p zero', json: chat({ top_p: 0 }), status: 400, param: 'top_p' },
  { name: 'top_p above 1', json: chat({ top_p: 1.5 }), status: 400, param: 'top_p' },
  { name: 'max_tokens zero', json: chat({ max_tokens: 0 }), status: 400, param: 'max_tokens' },
  { name: 'max_tokens negative', json: chat({ max_tokens: -5 }), status: 400, param: 'max_tokens' },
  {
    name: 'max_tokens fractional',
    json: chat({ max_tokens: 3.7 }),
    status: 400,
    param: 'max_tokens',
    message: /^max_tokens must be an integer, got a number \(3\.7\)$/,
  },
  {
    name: 'max_tokens a string',
    json: chat({ max_tokens: '10' }),
    status: 400,
    param: 'max_tokens',
    message: /^max_tokens must be an integer, got a string \("10"\)$/,
  },
  {
    name: 'max_tokens a boolean',
    json: chat({ max_tokens: true }),
    status: 400,
    param: 'max_tokens',
    message: /must be an integer, got a boolean/,
  },
  {
    name: 'max_completion_tokens an object',
    json: chat({ max_completion_tokens: {} }),
    status: 400,
    param: 'max_completion_tokens',
    message: /must be an integer, got an object/,
  },
  { name: 'max_completion_tokens zero', json: chat({ max_completion_tokens: 0 }), status: 400 },
  { name: 'n = 2', json: chat({ n: 2 }), status: 400, param: 'n' },
  {
    name: 'stream a string',
    json: chat({ stream: 'yes' }),
    status: 400,
    param: 'stream',
    message: /^stream must be a boolean, got a string \("yes"\)$/,
  },
  { name: 'stream a number', json: chat({ stream: 1 }), status: 400, param: 'stream', message: /got a number \(1\)/ },
  {
    name: 'top_p an array',
    json: chat({ top_p: [0.5] }),
    status: 400,
    param: 'top_p',
    message: /^top_p must be a number, got an array$/,
  },
  { name: 'seed a string', json: chat({ seed: '42' }), status: 400, param: 'seed', message: /must be an integer/ },
  {
    name: 'text part text a number',
    json: { model, messages: [{ role: 'user', content: [{ type: 'text', text: 7 }] }] },
    status: 400,
    param: 'messages[0].content[0].text',
    message: /must be a string, got a number \(7\)/,
  },
  {
    name: 'tool_call_id a number',
    json: { model, messages: [{ role: 'tool', content: 'x', tool_call_id: 9 }] },
    status: 400,
    param: 'messages[0].tool_call_id',
    message: /must be a string, got a number/,
  },
  {
    name: 'venice_parameters a string',
    json: chat({ venice_parameters: 'on' }),
    status: 400,
    param: 'venice_parameters',
    message: /must be an object, got a string/,
  },
  {
    name: 'top_k fractional (a Venice field, still checked)',
    json: chat({ top_k: 2.5 }),
    status: 400,
    param: 'top_k',
    message: /^top_k must be an integer, got a number \(2\.5\)$/,
  },
  {
    name: 'misspelt Venice field',
    json: chat({ venice_parameter: {} }),
    status: 400,
    param: 'venice_parameter',
    message: /^unrecognized request argument supplied: venice_parameter$/,
  },
  { name: 'stream_options without stream', json: chat({ stream_options: { include_usage: true } }), status: 400 },
  {
    name: 'stream_options bad field',
    json: chat({ stream: true, stream_options: { include_usage: 'x' } }),
    status: 400,
  },
  { name: 'five stop sequences', json: chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), status: 400, param: 'stop' },
  {
    name: 'stop a number',
    json: chat({ stop: 5 }),
    status: 400,
    param: 'stop',
    message: /^stop must be a string or an array, got a number \(5\)$/,
  },
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
  {
    name: 'completion prompt a number',
    path: '/v1/completions',
    json: { model, prompt: 5 },
    status: 400,
    param: 'prompt',
    message: /^prompt must be a string or an array, got a number \(5\)$/,
  },
  { name: 'completion prompt empty list', path: '/v1/completions', json: { model, prompt: [] }, status: 400 },
  { name: 'completion with echo', path: '/v1/completions', json: { model, prompt: 'x', echo: true }, status: 400 },
  { name: 'completion best_of 3', path: '/v1/completions', json: { model, prompt: 'x', best_of: 3 }, status: 400 },
  { name: 'embedding without input', path: '/v1/embeddings', json: { model }, status: 400, param: 'input' },
  { name: 'embedding of an empty string', path: '/v1/embeddings', json: { model, input: '' }, status: 400 },
  { name: 'embedding of an empty list', path: '/v1/embeddings', json: { model, input: [] }, status: 400 },
  {
    name: 'embedding of token ids',
    path: '/v1/embeddings',
    json: { model, input: [1, 2, 3] },
    status: 400,
    param: 'input[0]',
    message: /^input\[0\] must be a string, got a number \(1\)$/,
  },
  {
    name: 'embedding dimensions a string',
    path: '/v1/embeddings',
    json: { model, input: 'x', dimensions: '8' },
    status: 400,
    param: 'dimensions',
    message: /must be an integer, got a string/,
  },
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
  {
    name: 'key creation with a numeric description',
    path: '/api/v1/api_keys',
    json: { apiKeyType: 'INFERENCE', description: 5 },
    admin: true,
    status: 400,
    param: 'description',
    message: /^description must be a string, got a number \(5\)$/,
  },
  {
    name: 'key creation with an unknown limitPeriod',
    path: '/api/v1/api_keys',
    json: { apiKeyType: 'INFERENCE', description: 'x', limitPeriod: 'WEEK' },
    admin: true,
    status: 400,
    param: 'limitPeriod',
    message: /must be one of "EPOCH", "MONTH", "LIFETIME", got a string \("WEEK"\)/,
  },
  {
    name: 'key creation with a fractional rate limit',
    path: '/api/v1/api_keys',
    json: { apiKeyType: 'INFERENCE', description: 'x', rateLimits: { requestsPerMinute: 1.5 } },
    admin: true,
    status: 400,
    param: 'rateLimits.requestsPerMinute',
    message: /must be an integer, got a number \(1\.5\)/,
  },
  {
    name: 'key update with a usd limit of the wrong type',
    path: '/api/v1/api_keys',
    method: 'PATCH',
    json: { id: 'k', consumptionLimit: { usd: true } },
    admin: true,
    status: 400,
    param: 'consumptionLimit.usd',
    message: /must be a string or a number, got a boolean \(true\)/,
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
      method: c.method ?? (post ? 'POST' : 'GET'),
      headers: { 'content-type': 'application/json', ...c.headers },
      ...(c.raw !== undefined ? { body: c.raw } : c.json !== undefined ? { body: JSON.stringify(c.json) } : {}),
      ...(c.admin ? { key: gw.adminKey } : c.key !== undefined ? { key: c.key } : {}),
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

  it('answers every wrong-typed field with a 400 that names it, its type and the type sent, and no ledger change', async () => {
    const expected: Record<string, 'a string' | 'a number' | 'an integer' | 'a boolean'> = {
      model: 'a string',
      user: 'a string',
      max_tokens: 'an integer',
      max_completion_tokens: 'an integer',
      seed: 'an integer',
      top_k: 'an integer',
      temperature: 'a number',
      top_p: 'a number',
      presence_penalty: 'a number',
      frequency_penalty: 'a number',
      min_p: 'a number',
      repetition_penalty: 'a number',
      stream: 'a boolean',
      logprobs: 'a boolean',
    };
    const jsonTypeOf = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value);
    const wrongFor = (type: string) =>
      fc
        .oneof(
          fc.string({ maxLength: 8 }),
          fc.boolean(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.array(fc.integer(), { maxLength: 3 }),
          fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
        )
        .filter((value) => {
          if (type === 'an integer') return !Number.isInteger(value);
          return jsonTypeOf(value) !== type.replace(/^an? /, '');
        });
    const wrongTyped = fc
      .constantFrom(...Object.keys(expected))
      .chain((field) => fc.tuple(fc.constant(field), wrongFor(expected[field]!)));
    await fc.assert(
      fc.asyncProperty(wrongTyped, async ([field, value]) => {
        const before = await ledgerState();
        const response = await gw.request('/v1/chat/completions', {
          method: 'POST',
          body: JSON.stringify({ ...chat({ max_tokens: 3 }), [field]: value }),
        });
        expect(response.status).toBe(400);
        const { error } = (await response.json()) as { error: { message: string; code: string; param: string } };
        expect(error.param).toBe(field);
        expect(error.code).toBe('invalid_type');
        const article = Array.isArray(value) || typeof value === 'object' ? 'an' : 'a';
        expect(
          error.message.startsWith(`${field} must be ${expected[field]}, got ${article} ${jsonTypeOf(value)}`),
        ).toBe(true);
        expect(error.message).not.toMatch(/required/);
        expect(await ledgerState()).toEqual(before);
      }),
      { numRuns: 200, seed: 20_260_112 },
    );
  });
});

describe("Venice's extra fields: accepted, ignored, and charged as the same request without them", () => {
  let gw: InProcessGateway;

  beforeAll(async () => {
    gw = await startInProcessGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  const veniceSampling = {
    top_k: 40,
    min_p: 0.05,
    min_temp: 0.1,
    max_temp: 1.5,
    repetition_penalty: 1.2,
    stop_token_ids: [151643, 151645],
  };
  const veniceParameters = {
    venice_parameters: {
      include_venice_system_prompt: false,
      enable_web_search: 'auto',
      character_slug: 'venice',
      strip_thinking_response: true,
    },
  };

  async function charged(path: string, body: Record<string, unknown>) {
    const before = (await gw.ledger.balance(gw.accountId)).diem.availableNano;
    const response = await gw.request(path, { json: body });
    expect(response.status, await response.clone().text()).toBe(200);
    const after = (await gw.ledger.balance(gw.accountId)).diem.availableNano;
    const cost = ((await response.json()) as { cost: { nanoUsd: string } }).cost;
    expect(BigInt(cost.nanoUsd)).toBe(before - after);
    return { spent: before - after, ignored: response.headers.get('x-ignored-params') };
  }

  it('chat completions with venice_parameters and Venice sampling fields', async () => {
    const plain = await charged('/v1/chat/completions', chat({ max_tokens: 4 }));
    const venice = await charged(
      '/v1/chat/completions',
      chat({ max_tokens: 4, ...veniceSampling, ...veniceParameters }),
    );
    expect(plain.spent).toBeGreaterThan(0n);
    expect(venice.spent).toBe(plain.spent);
    expect(plain.ignored).toBeNull();
    expect(venice.ignored?.split(', ').sort()).toEqual(Object.keys({ ...veniceSampling, ...veniceParameters }).sort());
  });

  it('completions with Venice sampling fields', async () => {
    const body = { model, prompt: 'hello', max_tokens: 4 };
    const plain = await charged('/v1/completions', body);
    const venice = await charged('/v1/completions', { ...body, top_k: 10, repetition_penalty: 1.1 });
    expect(venice.spent).toBe(plain.spent);
    expect(venice.ignored).toBe('top_k, repetition_penalty');
  });

  it("embeddings with every field Venice documents (all of them OpenAI's)", async () => {
    const body = { model, input: 'hello', encoding_format: 'float', dimensions: 2, user: 'u' };
    const plain = await charged('/v1/embeddings', { model, input: 'hello' });
    expect((await charged('/v1/embeddings', body)).spent).toBe(plain.spent);
  });
});
