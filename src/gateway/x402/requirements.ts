/** x402 v2 payment requirements for this gateway, and the 402 that carries them (header and body). */
import { encodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { assert, PaymentRequiredError } from '../../core/errors.ts';
import { formatUsd, type NanoUsd } from '../../core/money.ts';
import { paymentTimeoutSecondsDefault } from '../../x402/limits.ts';
import type { X402Config } from './config.ts';
import { nanoPerUsdcUnit } from './limits.ts';

export const paymentRequiredHeader = 'PAYMENT-REQUIRED';
export const paymentSignatureHeader = 'PAYMENT-SIGNATURE';
export const paymentResponseHeader = 'PAYMENT-RESPONSE';
/** On a paid request: `true` when the payment was settled on chain, `false` when the wallet's balance paid instead. */
export const paymentSettledHeader = 'x-payment-settled';
/** With `x-payment-settled: false`: the source that covers the request (DIEM, CREDITS or USD). */
export const paymentCoveredByHeader = 'x-payment-covered-by';

/** What pays for a request that carries a payment, in order; the payment is settled only when nothing before it can. */
export const paidFromOrder = [
  "the wallet's DIEM allowance",
  'its credits',
  'its USD balance',
  'then this payment',
] as const;
export const paidFromText = `paid from, in order: ${paidFromOrder.join(', ')}`;

/** USDC units (6 decimals) for a nano-USD amount that is a whole number of them. */
export function usdcUnitsOf(amountNano: NanoUsd): bigint {
  assert(amountNano % nanoPerUsdcUnit === 0n, `not a whole USDC unit: ${amountNano} nano-USD`);
  return amountNano / nanoPerUsdcUnit;
}

export function exactRequirements(config: X402Config, amountNano: NanoUsd): PaymentRequirements {
  return {
    scheme: 'exact',
    network: config.network,
    asset: config.asset,
    amount: usdcUnitsOf(amountNano).toString(),
    payTo: config.payTo,
    maxTimeoutSeconds: config.paymentTimeoutSeconds ?? paymentTimeoutSecondsDefault,
    extra: { name: config.eip712.name, version: config.eip712.version },
  };
}

export function paymentRequiredOf(
  requirements: PaymentRequirements[],
  resource: { url: string; description: string },
  error?: string,
): PaymentRequired {
  return {
    x402Version: 2,
    ...(error === undefined ? {} : { error }),
    resource: { url: resource.url, description: resource.description, mimeType: 'application/json' },
    accepts: requirements,
  };
}

/** The 402: x402's PaymentRequired in the `PAYMENT-REQUIRED` header, and beside `error` in the body. */
export function paymentRequiredError(
  message: string,
  code: string,
  paymentRequired: PaymentRequired,
  more: Record<string, unknown> = {},
  options: { header: boolean } = { header: true },
): PaymentRequiredError {
  return new PaymentRequiredError(message, {
    code,
    headers: options.header ? { [paymentRequiredHeader]: encodePaymentRequiredHeader(paymentRequired) } : {},
    bodyFields: { ...paymentRequired, ...more },
  });
}

export function usdOf(amountNano: NanoUsd): string {
  return formatUsd(amountNano);
}
