/**
 * Pay-per-request with x402's `exact` scheme, for the text routes (`chat/completions`, `completions`): a request
 * with no credentials is quoted at its maximum cost (the same bound the reservation holds: prompt bound plus
 * max_tokens, or the context when max_tokens is absent) and answered 402 with `PAYMENT-REQUIRED`. The retried
 * request with `PAYMENT-SIGNATURE` is paid from, in order, the wallet's DIEM allowance, its credits, its USD balance,
 * and only then the payment: when one of the wallet's own sources covers the quote, the payment is verified (it
 * proves who is asking) but never settled, and no USDC moves. Otherwise it is settled and credited to the wallet
 * (once per payment), and the request runs as that wallet. The ledger charges only the request's actual cost; the
 * rest of a settled payment stays in the wallet's USD balance. `exact` moves the quoted amount on chain; settling
 * only the actual cost on chain needs the `upto` scheme (Permit2), which the local chain does not have.
 */
import type { Context } from 'hono';
import type { Address } from 'viem';
import { ceilDiv, type NanoUsd } from '../../core/money.ts';
import { type FundingSource, fundingSourceOrder } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { quoteText } from '../kinds/text/textQuote.ts';
import { chatPromptTokensMax, textPromptTokensMax } from '../metering/promptBound.ts';
import type { ChatCompletionRequest, CompletionRequest } from '../providers/index.ts';
import { requestedMaxTokens } from '../providers/index.ts';
import { nanoPerUsdcUnit } from './limits.ts';

type Route = 'chat' | 'completion';

function routeOf(c: Context<GatewayEnv>): Route | null {
  if (c.req.method !== 'POST') return null;
  if (c.req.path.endsWith('/chat/completions')) return 'chat';
  if (c.req.path.endsWith('/completions')) return 'completion';
  return null;
}

function promptTokensMax(route: Route, body: Record<string, unknown>): number {
  if (route === 'chat') return chatPromptTokensMax(body.messages as ChatCompletionRequest['messages']);
  return textPromptTokensMax(body.prompt as CompletionRequest['prompt']);
}

/**
 * The most this request can cost, rounded up to whole USDC units; null when it is not a payable route or not a
 * well-formed request for a priced, served text model (validation then answers it as usual).
 */
export async function payPerRequestQuote(deps: GatewayDeps, c: Context<GatewayEnv>): Promise<NanoUsd | null> {
  const route = routeOf(c);
  if (route === null) return null;
  try {
    const body = (await c.req.json()) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || typeof body.model !== 'string') return null;
    const price = deps.prices.priceAt(body.model, deps.clock());
    if (price === null || price.kind !== 'text') return null;
    const info = deps.registry
      .providersFor(body.model)[0]
      ?.listModels()
      .find((model) => model.id === body.model);
    if (!info) return null;
    const maxTokens = requestedMaxTokens(body as unknown as ChatCompletionRequest);
    const quote = quoteText(price, promptTokensMax(route, body), maxTokens, info.contextLength);
    return ceilDiv(quote.amountNano, nanoPerUsdcUnit) * nanoPerUsdcUnit;
  } catch {
    return null;
  }
}

/**
 * The first of the wallet's own sources (in spend order) that covers `amountNano` on its own, as a reservation needs
 * one source to; null when none does or the wallet has no account yet. The allowance is re-read from the chain once
 * (`refreshAllowance`) before the answer is no.
 */
export async function coveringSource(
  deps: GatewayDeps,
  wallet: Address,
  amountNano: NanoUsd,
): Promise<FundingSource | null> {
  const account = await deps.ledger.accountByWallet(wallet);
  if (account === null) return null;
  const covering = async () => {
    // Wallet requests run under a key with no limits (walletAccounts.ts), so the account's balances decide.
    const { sources } = await deps.ledger.spendable({ accountId: account.id, keyId: null });
    return fundingSourceOrder.find((source) =>
      sources.some((headroom) => headroom.source === source && headroom.headroomNano >= amountNano),
    );
  };
  const found = await covering();
  if (found !== undefined) return found;
  if (!(await deps.refreshAllowance?.(account.id))) return null;
  return (await covering()) ?? null;
}
