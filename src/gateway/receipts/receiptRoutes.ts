/** `GET /api/v1/receipts/{requestId}`: the signed receipt of one of the caller's own charges, rebuilt from the ledger. */
import { Hono } from 'hono';
import { NotFoundError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { receiptOfRequest } from './chargeReceipt.ts';

export function receiptRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get('/receipts/:requestId', async (c) => {
    const requestId = c.req.param('requestId');
    if (!deps.receipts) {
      throw new NotFoundError('this gateway signs no receipts (it was started without a receipt key)', {
        code: 'receipts_disabled',
      });
    }
    const receipt = await receiptOfRequest(deps, c.get('principal').accountId, requestId);
    if (!receipt) {
      throw new NotFoundError(`no charge of this account has request id ${requestId}`, {
        code: 'receipt_not_found',
        param: 'requestId',
      });
    }
    return c.json(receipt);
  });
  return app;
}
