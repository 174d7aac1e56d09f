/** GET /v1/prices/sheets[/{hash}]: public, canonical bytes by hash, OpenAI-shaped errors, documented. */
import { keccak256 } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSheetJson, priceSheetHash } from '../../core/priceSheetHash.ts';
import { fakePriceBook } from '../testing/fakeRegistry.ts';
import { type InProcessGateway, startInProcessGateway } from '../testing/inProcess.ts';

let gw: InProcessGateway;
beforeAll(async () => {
  gw = await startInProcessGateway();
});
afterAll(() => gw.close());

const sheet = fakePriceBook.versions.at(-1)!;

describe('price sheet routes', () => {
  it('serves a sheet by its hash without a key, under /v1 and /api/v1, as the canonical bytes', async () => {
    const hash = priceSheetHash(sheet);
    for (const prefix of ['/v1', '/api/v1']) {
      const answer = await gw.request(`${prefix}/prices/sheets/${hash}`, { key: null });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/json');
      const bytes = new Uint8Array(await answer.arrayBuffer());
      expect(new TextDecoder().decode(bytes)).toBe(canonicalSheetJson(sheet));
      expect(keccak256(bytes)).toBe(hash);
    }
    const upper = await gw.request(`/v1/prices/sheets/0x${hash.slice(2).toUpperCase()}`, { key: null });
    expect(upper.status).toBe(200);
  });

  it('lists the sheets it holds with their hashes', async () => {
    const answer = await gw.request('/v1/prices/sheets', { key: null });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { object: string; data: { hash: string; effectiveFrom: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((entry) => entry.hash)).toEqual(fakePriceBook.versions.map(priceSheetHash));
    expect(body.data[0]!.effectiveFrom).toBe(new Date(fakePriceBook.versions[0]!.effectiveFromMs).toISOString());
  });

  it('answers an unknown hash with an OpenAI-shaped 404 and a malformed one with a 400', async () => {
    const unknown = await gw.request(`/v1/prices/sheets/0x${'00'.repeat(32)}`, { key: null });
    expect(unknown.status).toBe(404);
    const body = (await unknown.json()) as { error: { type: string; code: string; param: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'price_sheet_not_found', param: 'hash' });
    const malformed = await gw.request('/v1/prices/sheets/0x1234', { key: null });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('invalid_sheet_hash');
  });

  it('is documented in /openapi.json as a public route', async () => {
    const doc = (await (await gw.request('/openapi.json', { key: null })).json()) as {
      paths: Record<string, { get?: { security: unknown[] } }>;
    };
    for (const path of ['/v1/prices/sheets/{hash}', '/api/v1/prices/sheets/{hash}', '/v1/prices/sheets']) {
      expect(doc.paths[path]?.get?.security).toEqual([]);
    }
  });
});
