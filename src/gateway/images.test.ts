/**
 * Image generation through the `openai` provider. No image model can run on this machine, so the upstream is a
 * fixture: an HTTP server on loopback answering with hand-written responses in OpenAI's images shape. Everything
 * else is real: the gateway on a port, the SQLite ledger, the official `openai` client.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Balance } from '../ledger/types.ts';
import { startTestGateway, type TestGateway } from './testing/fixture.ts';

const model = 'fixture-image';
const unpricedDefault = 'fixture-image-sized';
/** A 1×1 PNG. */
const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const nano = (usd: number) => BigInt(Math.round(usd * 1e6)) * 1000n;
const prices = {
  standard: nano(0.04),
  large: nano(0.08),
  largeHd: nano(0.12),
};

interface FixtureUpstream {
  baseUrl: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req as AsyncIterable<Buffer>) parts.push(part);
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
}

/** Answers `n` images; the prompt "fail" gets a 500, "one" gets a single image whatever `n` was. */
async function startFixtureUpstream(): Promise<FixtureUpstream> {
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    void readJson(req).then((body) => {
      bodies.push(body);
      if (req.url !== '/v1/images/generations') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      if (body.prompt === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
        return;
      }
      const count = body.prompt === 'one' ? 1 : Number(body.n ?? 1);
      const data = Array.from({ length: count }, () => ({ b64_json: pixel, revised_prompt: `${body.prompt}, drawn` }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ created: 1_700_000_000, data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function spendable(b: Balance): bigint {
  return b.diem.availableNano + b.credits.availableNano + b.usd.availableNano;
}

describe('image generation through an OpenAI-compatible upstream (fixture upstream: hand-written responses)', () => {
  let upstream: FixtureUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startFixtureUpstream();
    gw = await startTestGateway({
      providers: async () => [
        {
          kind: 'openai',
          id: 'images',
          upstreams: [{ name: 'fixture', baseUrl: upstream.baseUrl, modelMap: { [model]: 'upstream-image-1' } }],
          models: [
            { id: model, capabilities: ['image'] },
            { id: unpricedDefault, capabilities: ['image'] },
            { id: 'fixture-chat' },
          ],
          retries: 0,
        },
      ],
    });
    const current = gw.prices.current().versions.at(-1)!;
    gw.prices.add({
      effectiveFromMs: current.effectiveFromMs + 1,
      models: {
        ...current.models,
        [model]: {
          kind: 'image',
          perImage: prices.standard,
          byResolution: { '1024x1792': prices.large, '1024x1792:hd': prices.largeHd },
        },
        [unpricedDefault]: { kind: 'image', byResolution: { '1024x1024': prices.standard } },
      },
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('generates n images, charges n times the price of the size and quality asked, and reports the cost', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const { data: result, response } = await client.images
      .generate({ model, prompt: 'a lighthouse', n: 2, size: '1024x1792', quality: 'hd', response_format: 'b64_json' })
      .withResponse();
    expect(result.data).toHaveLength(2);
    expect(result.data?.[0]?.b64_json).toBe(pixel);
    const cost = (result as unknown as { cost: { nanoUsd: string } }).cost;
    expect(BigInt(cost.nanoUsd)).toBe(2n * prices.largeHd);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spendable(before) - spendable(after)).toBe(2n * prices.largeHd);
    expect(after.diem.reservedNano + after.credits.reservedNano + after.usd.reservedNano).toBe(0n);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    // The upstream got its own model id and the request as asked.
    expect(upstream.bodies.at(-1)).toMatchObject({
      model: 'upstream-image-1',
      prompt: 'a lighthouse',
      n: 2,
      size: '1024x1792',
      quality: 'hd',
    });
    const history = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 1 });
    expect(history.items[0]).toMatchObject({ sku: 'image.1024x1792:hd', units: 2, amountNano: 2n * prices.largeHd });
  });

  it('charges the default price for one image when no size is given', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const result = await client.images.generate({ model, prompt: 'a boat' });
    expect(result.data).toHaveLength(1);
    expect(spendable(before) - spendable(await gw.ledger.balance(gw.accountId))).toBe(prices.standard);
  });

  it('charges only for the images the upstream returned', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const result = await client.images.generate({ model, prompt: 'one', n: 3, size: '1024x1792' });
    expect(result.data).toHaveLength(1);
    expect(spendable(before) - spendable(await gw.ledger.balance(gw.accountId))).toBe(prices.large);
  });

  it('answers 502 to an upstream failure and charges nothing', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const error = await client.images.generate({ model, prompt: 'fail', n: 2 }).catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    const after = await gw.ledger.balance(gw.accountId);
    expect(spendable(after)).toBe(spendable(before));
    expect(after.diem.reservedNano + after.credits.reservedNano + after.usd.reservedNano).toBe(0n);
  });

  it('refuses a size with no price before reserving anything, and image requests to a text model', async () => {
    const before = await gw.ledger.balance(gw.accountId);
    const calls = upstream.bodies.length;
    const refusal = (request: Promise<unknown>) =>
      request.then(
        () => null,
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
    const unpriced = await refusal(
      client.images.generate({ model: unpricedDefault, prompt: 'a fox', size: '1792x1024' }),
    );
    expect(unpriced?.status).toBe(400);
    expect((unpriced?.error as { code?: string } | undefined)?.code).toBe('image_size_not_priced');
    const wrongKind = await refusal(client.images.generate({ model: 'fixture-chat', prompt: 'a fox' }));
    expect(wrongKind?.status).toBe(400);
    expect((wrongKind?.error as { code?: string } | undefined)?.code).toBe('model_not_supported');
    expect(upstream.bodies.length).toBe(calls);
    expect(spendable(await gw.ledger.balance(gw.accountId))).toBe(spendable(before));
  });
});
