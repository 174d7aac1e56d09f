/**
 * `POST /api/v1/x402/top-up`: without a payment, a 402 with x402 v2 requirements for the amount asked
 * (`{"amountUsd": "5"}` in the body or `?amountUsd=5`; default the minimum). With `PAYMENT-SIGNATURE`, the payment
 * is verified and settled by the facilitator, then credited to the paying wallet's USD balance, with
 * `PAYMENT-RESPONSE` in the answer.
 *
 * A payment is credited at most once: the ledger credits once per reference (network, asset, payer, EIP-3009
 * nonce); a resubmission while the first is settling is refused with 409; a resubmission after it settled finds
 * the settlement on chain and credits it if (and only if) that had not happened yet.
 */
import { decodePaymentSignatureHeader, encodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import type { Context } from 'hono';
import { getAddress } from 'viem';
import {
  ConflictError,
  InvalidRequestError,
  PerdiemError,
  UnavailableError,
  UpstreamTimeoutError,
} from '../../core/errors.ts';
import { type NanoUsd, parseUsd } from '../../core/money.ts';
import type { Ledger } from '../../ledger/types.ts';
import { authorizationOf, type Eip3009Authorization, reasons } from '../../x402/exactEvmFacilitator.ts';
import type { X402Config } from './config.ts';
import { nanoPerUsdcUnit, topUpMaxNanoDefault, topUpMinNanoDefault } from './limits.ts';
import {
  exactRequirements,
  paymentRequiredError,
  paymentRequiredOf,
  paymentResponseHeader,
  paymentSignatureHeader,
  usdOf,
} from './requirements.ts';
import { findSettlement } from './settlement.ts';
import type { WalletAccounts } from './walletAccounts.ts';

export interface TopUpDeps {
  config: X402Config;
  ledger: Ledger;
  accounts: WalletAccounts;
}

export interface TopUpResult {
  walletAddress: string;
  amountUsd: string;
  amountNano: string;
  /** False when this payment had already been credited (a resubmission): nothing was added this time. */
  credited: boolean;
  balanceUsd: string;
  transaction: string;
  network: string;
}

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
    throw new InvalidRequestError('amountUsd must be a decimal USD amount', {
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

function referenceOf(config: X402Config, auth: Eip3009Authorization): string {
  return `x402:${config.network}:${config.asset}:${auth.from}:${auth.nonce}`.toLowerCase();
}

function decodePayment(header: string): PaymentPayload {
  try {
    return decodePaymentSignatureHeader(header);
  } catch {
    throw new InvalidRequestError(`${paymentSignatureHeader} is not a base64 x402 payment payload`, {
      code: 'invalid_payment',
      param: paymentSignatureHeader,
    });
  }
}

/** Facilitator failures (unreachable, timed out) are the gateway's to report, never a reason to credit. */
async function facilitatorCall<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PerdiemError) throw error;
    const message = (error as Error).message ?? String(error);
    if (/timed? ?out|timeout/i.test(message)) {
      throw new UpstreamTimeoutError(
        `the facilitator did not answer the ${what} in time; resubmit the same payment: it is credited at most once`,
        { code: 'facilitator_timeout', cause: error },
      );
    }
    throw new UnavailableError(`the facilitator failed the ${what}: ${message}`, {
      code: 'facilitator_unavailable',
      cause: error,
    });
  }
}

export function createTopUpHandler(deps: TopUpDeps) {
  const { config, ledger, accounts } = deps;
  const inFlight = new Set<string>();

  async function credit(auth: Eip3009Authorization, amountNano: NanoUsd, transaction: string): Promise<TopUpResult> {
    const accountId = await accounts.accountOf(auth.from);
    const credited = await ledger.addFunds({
      accountId,
      source: 'USD',
      amountNano,
      reference: referenceOf(config, auth),
    });
    const balance = await ledger.balance(accountId);
    return {
      walletAddress: getAddress(auth.from),
      amountUsd: usdOf(amountNano),
      amountNano: amountNano.toString(),
      credited,
      balanceUsd: usdOf(balance.usd.availableNano),
      transaction,
      network: config.network,
    };
  }

  async function pay(
    payload: PaymentPayload,
    auth: Eip3009Authorization,
    requirements: PaymentRequirements,
    refuse: (message: string, code: string, reason: string) => never,
  ): Promise<{ result: TopUpResult; settled: SettleResponse }> {
    const verified: VerifyResponse = await facilitatorCall(
      () => config.facilitator.verify(payload, requirements),
      'verify',
    ).catch((error: unknown) => {
      // HTTPFacilitatorClient throws a VerifyError for a facilitator that answers invalid payments with 4xx.
      const reason = (error as { invalidReason?: string }).invalidReason;
      if (reason) return { isValid: false, invalidReason: reason, invalidMessage: (error as Error).message };
      throw error;
    });
    if (!verified.isValid) {
      const reason = verified.invalidReason ?? 'invalid_payment';
      if (reason === reasons.nonceUsed) {
        const found = await findSettlement(config.chain, {
          asset: config.asset,
          payer: auth.from,
          nonce: auth.nonce,
          payTo: config.payTo,
        });
        if (found && found.value === auth.value) {
          const settled: SettleResponse = {
            success: true,
            transaction: found.transaction,
            network: config.network,
            payer: auth.from,
            amount: found.value.toString(),
          };
          return { result: await credit(auth, found.value * nanoPerUsdcUnit, found.transaction), settled };
        }
      }
      refuse(`payment refused: ${verified.invalidMessage ?? reason}`, 'payment_invalid', reason);
    }
    const settled = await facilitatorCall(() => config.facilitator.settle(payload, requirements), 'settle');
    if (!settled.success) {
      const reason = settled.errorReason ?? 'settlement_failed';
      refuse(`payment settlement failed: ${settled.errorMessage ?? reason}`, 'payment_settlement_failed', reason);
    }
    return { result: await credit(auth, auth.value * nanoPerUsdcUnit, settled.transaction), settled };
  }

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
    const payload = decodePayment(header);
    const auth = authorizationOf(payload);
    if (auth === null) refuse('payment is not an EIP-3009 authorization', 'payment_invalid', reasons.payload);
    const key = `${auth!.from}:${auth!.nonce}`.toLowerCase();
    if (inFlight.has(key)) {
      throw new ConflictError('this payment is being settled; wait for that answer (it is credited at most once)', {
        code: 'payment_in_progress',
      });
    }
    inFlight.add(key);
    try {
      const { result, settled } = await pay(payload, auth!, requirements, refuse);
      c.header(paymentResponseHeader, encodePaymentResponseHeader(settled));
      return c.json({ success: true, data: result });
    } finally {
      inFlight.delete(key);
    }
  };
}
