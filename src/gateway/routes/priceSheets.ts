/**
 * GET /v1/prices/sheets (and under /api/v1): the hash and start of every sheet the gateway holds.
 * GET /v1/prices/sheets/{hash}: a price sheet's canonical JSON bytes, by the keccak256 of those
 * bytes. Public (no key): this is the URI the operator anchors in the PriceRegistry, and anyone re-hashes what it
 * serves (`perdiem prices verify`). Every version the gateway holds is served, scheduled ones included, refused ones
 * too (so a mismatch can be shown); the bytes never change for a hash.
 */
import { Hono } from 'hono';
import { InvalidRequestError, NotFoundError } from '../../core/errors.ts';
import { canonicalSheetJson } from '../../core/priceSheetHash.ts';
import type { GatewayEnv } from '../env.ts';
import type { PriceBookStore } from '../priceBookStore.ts';
import { sheetHashOf } from '../pricing/anchorGate.ts';

export const priceSheetPath = '/prices/sheets';

const sheetHashPattern = /^0x[0-9a-f]{64}$/;

export function priceSheetRoutes(store: Pick<PriceBookStore, 'current'>): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // The index: which sheets the gateway holds, oldest first, so a holder can find the one for an epoch.
  app.get(priceSheetPath, (c) =>
    c.json({
      object: 'list',
      data: store.current().versions.map((sheet) => ({
        hash: sheetHashOf(sheet),
        effectiveFrom: new Date(sheet.effectiveFromMs).toISOString(),
      })),
    }),
  );
  app.get(`${priceSheetPath}/:hash`, (c) => {
    const hash = c.req.param('hash').toLowerCase();
    if (!sheetHashPattern.test(hash)) {
      throw new InvalidRequestError('hash must be 0x and 64 hex digits (keccak256 of the canonical sheet JSON)', {
        code: 'invalid_sheet_hash',
        param: 'hash',
      });
    }
    const sheet = store.current().versions.find((version) => sheetHashOf(version) === hash);
    if (!sheet) {
      throw new NotFoundError(`no price sheet with hash ${hash}`, { code: 'price_sheet_not_found', param: 'hash' });
    }
    // Content-addressed: the same hash always names the same bytes.
    return c.body(canonicalSheetJson(sheet), 200, {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });
  return app;
}
