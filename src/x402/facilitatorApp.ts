/**
 * The facilitator as an HTTP service, in x402 v2's facilitator API: `GET /supported`, `POST /verify`,
 * `POST /settle` (bodies `{x402Version, paymentPayload, paymentRequirements}`). Any x402 resource server can use
 * it through `HTTPFacilitatorClient`. Verify and settle failures answer 200 with `isValid: false` /
 * `success: false` and a reason; only a malformed request is an error (400, in the one OpenAI error shape).
 */
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { InvalidRequestError, toOpenAiError } from '../core/errors.ts';
import type { Facilitator } from './facilitatorTypes.ts';
import { facilitatorRequestBytesMax } from './limits.ts';

const requirementsSchema = z.object({
  scheme: z.string(),
  network: z.string(),
  asset: z.string(),
  amount: z.string(),
  payTo: z.string(),
  maxTimeoutSeconds: z.number(),
  extra: z.record(z.string(), z.unknown()).default({}),
});

const requestSchema = z.object({
  x402Version: z.number().int(),
  paymentPayload: z.object({
    x402Version: z.number().int(),
    accepted: requirementsSchema,
    payload: z.record(z.string(), z.unknown()),
    resource: z.unknown().optional(),
    extensions: z.record(z.string(), z.unknown()).optional(),
  }),
  paymentRequirements: requirementsSchema,
});

async function readRequest(request: Request): Promise<{ payload: PaymentPayload; requirements: PaymentRequirements }> {
  const json = await request.json().catch(() => {
    throw new InvalidRequestError('body is not JSON', { code: 'invalid_json' });
  });
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidRequestError(`not a facilitator request: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, {
      code: 'invalid_facilitator_request',
    });
  }
  return {
    payload: parsed.data.paymentPayload as PaymentPayload,
    requirements: parsed.data.paymentRequirements as PaymentRequirements,
  };
}

export function facilitatorApp(facilitator: Facilitator): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    const rendered = toOpenAiError(error);
    return c.json(rendered.body, rendered.status as 400, rendered.headers);
  });
  app.use('*', bodyLimit({ maxSize: facilitatorRequestBytesMax }));
  app.get('/supported', async (c) => c.json(await facilitator.getSupported()));
  app.post('/verify', async (c) => {
    const { payload, requirements } = await readRequest(c.req.raw);
    return c.json(await facilitator.verify(payload, requirements));
  });
  app.post('/settle', async (c) => {
    const { payload, requirements } = await readRequest(c.req.raw);
    return c.json(await facilitator.settle(payload, requirements));
  });
  return app;
}
