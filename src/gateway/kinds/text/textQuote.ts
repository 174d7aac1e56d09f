/**
 * The text quote: the most a chat or completion may cost. With max_tokens the bound is exact; without it the
 * reservation is flexible (budget-bounded generation): the most the model could emit, down to one output token,
 * and the ledger reserves as much as one funding source can hold between the two.
 */
import { InsufficientFundsError, InvalidRequestError } from '../../../core/errors.ts';
import type { NanoUsd } from '../../../core/money.ts';
import { type ModelPrice, maxOutputTokensWithin, maxTextCost, type TextPrice } from '../../../core/pricing.ts';
import { gatewayLimits } from '../../limits.ts';
import type { ReservationBounds } from '../../metering/meter.ts';

export interface TextQuote extends ReservationBounds {
  kind: 'text';
  price: TextPrice;
  promptTokensMax: number;
  /** The client's max_tokens, or null when the gateway sizes it from the reservation. */
  requestedMaxTokens: number | null;
  /** Output tokens the full reservation would pay for. */
  outputTokensCap: number;
}

export function textPriceOf(model: string, price: ModelPrice): TextPrice {
  if (price.kind !== 'text') {
    throw new InvalidRequestError(`${model} is not a text model`, { code: 'model_not_supported', param: 'model' });
  }
  return price;
}

export function quoteText(
  price: TextPrice,
  promptTokensMax: number,
  requestedMaxTokens: number | null,
  contextLength: number | null,
): TextQuote {
  const room = contextLength === null ? gatewayLimits.outputTokensMax : contextLength - promptTokensMax;
  const outputTokensCap = requestedMaxTokens ?? Math.max(1, Math.min(gatewayLimits.outputTokensMax, room));
  const amountNano = maxTextCost(price, promptTokensMax, outputTokensCap);
  const minAmountNano = requestedMaxTokens === null ? maxTextCost(price, promptTokensMax, 1) : amountNano;
  return { kind: 'text', price, promptTokensMax, requestedMaxTokens, outputTokensCap, amountNano, minAmountNano };
}

/** The upstream max_tokens: the client's, or as many as the reservation pays for (at least one, else 402). */
export function upstreamMaxTokens(quote: TextQuote, reservedNano: NanoUsd): number {
  if (quote.requestedMaxTokens !== null) return quote.requestedMaxTokens;
  const affordable = maxOutputTokensWithin(quote.price, quote.promptTokensMax, reservedNano);
  if (affordable < 1) {
    throw new InsufficientFundsError('insufficient balance for even one output token', {
      code: 'insufficient_balance',
    });
  }
  return Math.min(quote.outputTokensCap, affordable);
}
