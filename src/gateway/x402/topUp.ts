/**
 * `POST /api/v1/x402/top-up`: without a payment, a 402 with x402 v2 requirements for the amount asked
 * (`{"amountUsd": "5"}` in the body or `?amountUsd=5`; default the minimum). With `PAYMENT-SIGNATURE`, the payment
 * is verified, settled and credited once to the paying wallet's USD balance (see payments.ts), with
 * `PAYMENT-RESPONSE` in the answer.
 */
import { encodePaymentResponseHeader } from '@x402/core/http';
import type { Context } from 'hono';
import { InvalidRequestError } from '../../core/errors.ts';
import { type NanoUsd, parseUsd } from '../../core/money.ts';
import { describeValue } from '../validate/issues.ts';
import type { X402Config } from './config.ts';
import { nanoPerUsdcUnit, topUpMaxNanoDefault, topUpMinNanoDefault } from './limits.ts';
import { decodePayment, type PaymentProcessor } from './payments.ts';
import {
  exactRequirements,
  paymentRequiredError,
  paymentRequiredOf,
  paymentResponseHeader,
  paymentSignatureHeader,
  usdOf,
} from './requirements.ts';

function limitsOf(config: X402Config) {
  return { min: config.topUpMinNano ?? topUpMinNanoDefault, max: config.topUpMaxNano ?? topUpMaxNanoDefault };
}

async function amountOf(c: Context, config: X402Config): Promise<NanoUsd> {
  const { min, max } = limitsOf(config);
  let given: unknown = c.req.query('amountUsd');
  const text = given === undefined ? await c.req.text() : '';
  if (text.trim() !== '') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new InvalidRequestError('the request body is not valid JSON', { code: 'invalid_json' });
    }
    given = (body as { amountUsd?: unknown } | null)?.amountUsd;
  }
  if (given === undefined) return min;
  if (typeof given !== 'string' && typeof given !== 'number') {
    throw new InvalidRequestError(`amountUsd must be a decimal USD amount, got ${describeValue(given)}`, {
      code: 'invalid_amount',
      param: 'amountUsd',
    });
  }
  const amount = parseUsd(String(given));
  if (amount % nanoPerUsdcUnit !== 0n) {
    throw new InvalidRequestError('amountUsd has more than 6 decimals (USDC’s)', {
      code: 'invalid_amount',
      param: 'amountUsd',
    });
  }
  if (amount < min || amount > max) {
    throw new InvalidRequestError(`a top-up is between $${usdOf(min)} and $${usdOf(max)}`, {
      code: 'top_up_out_of_range',
      param: 'amountUsd',
    });
  }
  return amount;
}

export function createTopUpHandler(config: X402Config, payments: PaymentProcessor) {
  return async (c: Context): Promise<Response> => {
    const amountNano = await amountOf(c, config);
    const requirements = exactRequirements(config, amountNano);
    const resource = { url: c.req.url, description: `Top up $${usdOf(amountNano)} of USD balance for a wallet` };
    const { min, max } = limitsOf(config);
    const topUp = { topUp: { minimumUsd: usdOf(min), maximumUsd: usdOf(max), amountUsd: usdOf(amountNano) } };
    const header = c.req.header(paymentSignatureHeader);
    if (header === undefined) {
      throw paymentRequiredError(
        `pay $${usdOf(amountNano)} in USDC with x402 to top up: sign the requirements and resend with ${paymentSignatureHeader}`,
        'payment_required',
        paymentRequiredOf([requirements], resource),
        topUp,
      );
    }
    const refuse = (message: string, code: string, reason: string): never => {
      throw paymentRequiredError(message, code, paymentRequiredOf([requirements], resource, reason), {
        ...topUp,
        invalidReason: reason,
      });
    };
    const { result, settled } = await payments.pay(decodePayment(header), requirements, refuse);
    c.header(paymentResponseHeader, encodePaymentResponseHeader(settled));
    return c.json({ success: true, data: result });
  };
}
