/**
 * Authentication for a gateway that takes wallets: an `Authorization: Bearer` API key goes to the API-key auth; a
 * wallet sign-in header (`X-Sign-In-With-X`) signs the wallet in for this one request and runs it as the wallet's
 * account (DIEM allowance first if the wallet is linked to staked DIEM, then credits, then USD), at most
 * `walletConcurrentRequestsMax` at a time per wallet. A request with neither is a 402 with x402's requirements on
 * a route it can pay for (see payPerRequest.ts), and a 401 that lists the ways in everywhere else.
 */

import { encodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import type { Context, MiddlewareHandler } from 'hono';
import { type Address, getAddress } from 'viem';
import { AuthenticationError, InsufficientFundsError, RateLimitError } from '../../core/errors.ts';
import type { FundingSource } from '../../ledger/types.ts';
import { authorizationOf, type Eip3009Authorization } from '../../x402/eip3009.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import type { WalletAccounts } from '../identity/walletAccounts.ts';
import { noteBalance } from '../middleware/balance.ts';
import { errorResponse } from '../middleware/errors.ts';
import type { X402Config } from './config.ts';
import { topUpMinNanoDefault, walletConcurrentRequestsMaxDefault } from './limits.ts';
import { decodePayment, type PaymentProcessor, type Refuse } from './payments.ts';
import { coveringSource, payPerRequestQuote } from './payPerRequest.ts';
import {
  exactRequirements,
  paidFromOrder,
  paidFromText,
  paymentCoveredByHeader,
  paymentRequiredError,
  paymentRequiredOf,
  paymentResponseHeader,
  paymentSettledHeader,
  paymentSignatureHeader,
  usdOf,
} from './requirements.ts';
import { signInHeaderOf, verifySignIn } from './signIn.ts';

export const topUpPath = '/api/v1/x402/top-up';

/** How to get in, for 402 bodies: an API key, or a wallet that signs each request and tops up with x402. */
export function waysIn(config: X402Config) {
  return {
    authentication: {
      apiKey: {
        header: 'Authorization',
        format: 'Bearer <key>',
        obtain: 'GET|POST /api/v1/api_keys/generate_web3_key',
      },
      wallet: {
        header: 'X-Sign-In-With-X',
        format: 'base64(JSON {address, message, signature, timestamp, chainId}); message: SIWE (EIP-4361), fresh nonce',
        siwe: { domain: config.signIn.domain, chainId: config.signIn.chainId },
        topUp: `POST ${topUpPath}`,
        balance: 'GET /api/v1/x402/balance/{wallet}',
        transactions: 'GET /api/v1/x402/transactions/{wallet}',
      },
    },
  };
}

/** No credentials on a route x402 cannot pay for: 401, with the ways in (and no payment offer). */
function credentialsRequired(config: X402Config): AuthenticationError {
  return new AuthenticationError(
    'missing credentials: send an API key (Authorization: Bearer <key>) or a wallet sign-in (X-Sign-In-With-X)',
    { code: 'missing_api_key', bodyFields: waysIn(config) },
  );
}

/** A payment's EIP-3009 nonce, spent when the payment proves who is asking without being settled. */
function paymentNonceOf(config: X402Config, auth: Eip3009Authorization): string {
  return `x402-verified:${config.network}:${config.asset}:${auth.from}:${auth.nonce}`.toLowerCase();
}

function topUpRequired(c: Context, config: X402Config, message: string, code: string) {
  const minNano = config.topUpMinNano ?? topUpMinNanoDefault;
  const url = new URL(topUpPath, c.req.url).toString();
  const required = paymentRequiredOf([exactRequirements(config, minNano)], {
    url,
    description: `Top up at least $${usdOf(minNano)} of USD balance for a wallet`,
  });
  // The top-up's requirements go in the body only: a PAYMENT-REQUIRED header would tell an x402 client to pay
  // for this route itself.
  return paymentRequiredError(message, code, required, waysIn(config), { header: false });
}

export function createWalletConcurrency(max: number) {
  const active = new Map<string, number>();
  return {
    acquire(address: Address): boolean {
      const count = active.get(address) ?? 0;
      if (count >= max) return false;
      active.set(address, count + 1);
      return true;
    },
    release(address: Address): void {
      const count = (active.get(address) ?? 1) - 1;
      if (count <= 0) active.delete(address);
      else active.set(address, count);
    },
  };
}

/** Signs the wallet in from the request's header; the principal and balance are set as API-key auth sets them. */
export async function signInWallet(
  deps: GatewayDeps,
  config: X402Config,
  accounts: WalletAccounts,
  c: Context<GatewayEnv>,
  header: string,
): Promise<Address> {
  const address = await verifySignIn(header, config.signIn, deps.clock());
  await enterAs(deps, accounts, c, address);
  return address;
}

/** Runs the request as the wallet's account, as API-key auth does for a key's account. */
async function enterAs(deps: GatewayDeps, accounts: WalletAccounts, c: Context<GatewayEnv>, address: Address) {
  const principal = await accounts.principalOf(address);
  c.set('principal', principal);
  c.get('log').keyId = principal.key.id;
  c.get('headers')['x-wallet-address'] = address;
  noteBalance(c, await deps.ledger.balance(principal.accountId));
}

export function walletAuthMiddleware(
  deps: GatewayDeps,
  config: X402Config,
  accounts: WalletAccounts,
  payments: PaymentProcessor,
  apiKeyAuth: MiddlewareHandler<GatewayEnv>,
): MiddlewareHandler<GatewayEnv> {
  const concurrency = createWalletConcurrency(config.walletConcurrentRequestsMax ?? walletConcurrentRequestsMaxDefault);

  /**
   * The wallet's own balance covers the request: the payment only proves who is asking. It is verified, its nonce
   * spent here (so it proves that once), and never settled: no USDC moves.
   */
  async function coveredByWallet(
    c: Context<GatewayEnv>,
    payment: { payload: PaymentPayload; claimed: Eip3009Authorization; requirements: PaymentRequirements },
    source: FundingSource,
    refuse: Refuse,
  ): Promise<Address> {
    const address = await payments.verifyPayer(payment.payload, payment.requirements, refuse);
    const expiresAtMs = Number(payment.claimed.validBefore) * 1000;
    if (!(await config.signIn.nonces.consume(paymentNonceOf(config, payment.claimed), expiresAtMs, deps.clock()))) {
      refuse(
        'this payment was already used to pay for a request; sign a new payment for each request',
        'payment_already_used',
        'payment_already_used',
      );
    }
    await enterAs(deps, accounts, c, address);
    c.get('headers')[paymentSettledHeader] = 'false';
    c.get('headers')[paymentCoveredByHeader] = source;
    return address;
  }

  /** No credentials: pay for this request (a payable route), or be told the ways in. Returns the payer. */
  async function payForRequest(c: Context<GatewayEnv>): Promise<Address> {
    const amountNano = config.payPerRequest === false ? null : await payPerRequestQuote(deps, c);
    if (amountNano === null) throw credentialsRequired(config);
    const requirements = exactRequirements(config, amountNano);
    const resource = {
      url: c.req.url,
      description: `This request, at most $${usdOf(amountNano)}; ${paidFromText}, which is settled only when none of the wallet's own sources covers the request. Only the actual cost is charged; the rest of a settled payment stays as the wallet's USD balance`,
    };
    const more = { ...waysIn(config), paidFrom: paidFromOrder };
    const payment = c.req.header(paymentSignatureHeader);
    if (payment === undefined) {
      throw paymentRequiredError(
        `pay for this request with x402 (at most $${usdOf(amountNano)}; ${paidFromText}), or sign in with a wallet or an API key`,
        'payment_required',
        paymentRequiredOf([requirements], resource),
        more,
      );
    }
    const refuse = (message: string, code: string, reason: string): never => {
      throw paymentRequiredError(message, code, paymentRequiredOf([requirements], resource, reason), {
        ...more,
        invalidReason: reason,
      });
    };
    const payload = decodePayment(payment);
    const claimed = authorizationOf(payload);
    const source = claimed === null ? null : await coveringSource(deps, claimed.from, amountNano);
    if (claimed !== null && source !== null) {
      return await coveredByWallet(c, { payload, claimed, requirements }, source, refuse);
    }
    const { result, settled } = await payments.pay(payload, requirements, refuse);
    const address = getAddress(result.walletAddress);
    await enterAs(deps, accounts, c, address);
    c.get('headers')[paymentResponseHeader] = encodePaymentResponseHeader(settled);
    c.get('headers')[paymentSettledHeader] = 'true';
    return address;
  }

  return async (c, next) => {
    if (c.req.header('authorization') !== undefined) return apiKeyAuth(c, next);
    const header = signInHeaderOf((name) => c.req.header(name));
    const address =
      header === undefined ? await payForRequest(c) : await signInWallet(deps, config, accounts, c, header);
    if (!concurrency.acquire(address)) {
      throw new RateLimitError('too many requests in flight for this wallet; retry when one finishes', {
        code: 'wallet_concurrency_exceeded',
        headers: { 'retry-after': '1' },
      });
    }
    try {
      await next();
    } finally {
      // A stream holds its slot only until its response starts.
      concurrency.release(address);
    }
    // An empty wallet is told how to top up, in x402's terms.
    if (c.error instanceof InsufficientFundsError) {
      c.res = errorResponse(c, topUpRequired(c, config, c.error.message, 'insufficient_balance'));
    }
  };
}
