/**
 * Taking one x402 payment (the `exact` scheme with EIP-3009) and crediting it to the paying wallet's USD balance:
 * verify and settle through the facilitator, then `addFunds` with the payment's unique reference (network, asset,
 * payer, EIP-3009 nonce), so a payment is credited at most once.
 *
 * - A resubmission while the same payment is settling is refused with 409 (an in-flight set keyed by payer and
 *   nonce; the ledger's once-per-reference credit is the durable guard).
 * - A resubmission after it settled (the answer or the credit was lost to a timeout or a crash) finds the
 *   settlement on chain and credits it only if that had not happened yet.
 * - A payment whose settlement fails, or that was cancelled on chain, credits nothing.
 */
import { decodePaymentSignatureHeader, FacilitatorTimeoutError } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import { type Address, getAddress } from 'viem';
import {
  ConflictError,
  InvalidRequestError,
  PerdiemError,
  UnavailableError,
  UpstreamTimeoutError,
} from '../../core/errors.ts';
import type { NanoUsd } from '../../core/money.ts';
import type { Ledger } from '../../ledger/types.ts';
import { authorizationOf, type Eip3009Authorization } from '../../x402/eip3009.ts';
import { reasons } from '../../x402/exactEvmFacilitator.ts';
import type { WalletAccounts } from '../identity/walletAccounts.ts';
import type { X402Config } from './config.ts';
import { nanoPerUsdcUnit } from './limits.ts';
import { paymentSignatureHeader, usdOf } from './requirements.ts';
import { findSettlement } from './settlement.ts';

export interface PaymentDeps {
  config: X402Config;
  ledger: Ledger;
  accounts: WalletAccounts;
}

export interface PaymentResult {
  walletAddress: string;
  amountUsd: string;
  amountNano: string;
  /** False when this payment had already been credited (a resubmission): nothing was added this time. */
  credited: boolean;
  balanceUsd: string;
  transaction: string;
  network: string;
}

/** Throws the 402 for a refused payment, with x402's reason. */
export type Refuse = (message: string, code: string, reason: string) => never;

export function decodePayment(header: string): PaymentPayload {
  try {
    return decodePaymentSignatureHeader(header);
  } catch {
    throw new InvalidRequestError(`${paymentSignatureHeader} is not a base64 x402 payment payload`, {
      code: 'invalid_payment',
      param: paymentSignatureHeader,
    });
  }
}

function referenceOf(config: X402Config, auth: Eip3009Authorization): string {
  return `x402:${config.network}:${config.asset}:${auth.from}:${auth.nonce}`.toLowerCase();
}

/** Facilitator failures (unreachable, timed out) are the gateway's to report, never a reason to credit. */
async function facilitatorCall<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PerdiemError) throw error;
    const message = (error as Error).message ?? String(error);
    if (error instanceof FacilitatorTimeoutError || (error as Error).name === 'TimeoutError') {
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

async function verify(config: X402Config, payload: PaymentPayload, requirements: PaymentRequirements) {
  return await facilitatorCall(() => config.facilitator.verify(payload, requirements), 'verify').catch(
    (error: unknown): VerifyResponse => {
      // HTTPFacilitatorClient throws a VerifyError when a facilitator answers an invalid payment with a 4xx.
      const reason = (error as { invalidReason?: string }).invalidReason;
      if (reason) return { isValid: false, invalidReason: reason, invalidMessage: (error as Error).message };
      throw error;
    },
  );
}

/** Credits a settled payment to the payer's account, once per payment reference. */
async function credit(
  deps: PaymentDeps,
  auth: Eip3009Authorization,
  amountNano: NanoUsd,
  transaction: string,
): Promise<PaymentResult> {
  const { config, ledger, accounts } = deps;
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

/** A payment the chain already shows as ours (settled earlier), credited if it was not yet. */
async function recover(deps: PaymentDeps, auth: Eip3009Authorization) {
  const { config } = deps;
  const found = await findSettlement(config.chain, {
    asset: config.asset,
    payer: auth.from,
    nonce: auth.nonce,
    payTo: config.payTo,
  });
  if (!found || found.value !== auth.value) return null;
  const settled: SettleResponse = {
    success: true,
    transaction: found.transaction,
    network: config.network,
    payer: auth.from,
    amount: found.value.toString(),
  };
  return { result: await credit(deps, auth, found.value * nanoPerUsdcUnit, found.transaction), settled };
}

export function createPaymentProcessor(deps: PaymentDeps) {
  const { config } = deps;
  const inFlight = new Set<string>();

  async function verifySettleCredit(
    payload: PaymentPayload,
    auth: Eip3009Authorization,
    requirements: PaymentRequirements,
    refuse: Refuse,
  ): Promise<{ result: PaymentResult; settled: SettleResponse }> {
    const verified = await verify(config, payload, requirements);
    if (!verified.isValid) {
      const reason = verified.invalidReason ?? 'invalid_payment';
      const recovered = reason === reasons.nonceUsed ? await recover(deps, auth) : null;
      if (recovered) return recovered;
      refuse(`payment refused: ${verified.invalidMessage ?? reason}`, 'payment_invalid', reason);
    }
    const settled = await facilitatorCall(() => config.facilitator.settle(payload, requirements), 'settle');
    if (!settled.success) {
      const reason = settled.errorReason ?? 'settlement_failed';
      refuse(`payment settlement failed: ${settled.errorMessage ?? reason}`, 'payment_settlement_failed', reason);
    }
    return { result: await credit(deps, auth, auth.value * nanoPerUsdcUnit, settled.transaction), settled };
  }

  return {
    /**
     * Checks `payload` against `requirements` through the facilitator without settling it: proof that the payer
     * signed this payment (and could make it), for a request the payer's own balance covers. Returns the payer.
     */
    async verifyPayer(payload: PaymentPayload, requirements: PaymentRequirements, refuse: Refuse): Promise<Address> {
      const auth = authorizationOf(payload);
      if (auth === null) return refuse('payment is not an EIP-3009 authorization', 'payment_invalid', reasons.payload);
      const verified = await verify(config, payload, requirements);
      if (!verified.isValid) {
        const reason = verified.invalidReason ?? 'invalid_payment';
        refuse(`payment refused: ${verified.invalidMessage ?? reason}`, 'payment_invalid', reason);
      }
      return getAddress(auth.from);
    },

    /** Verifies, settles and credits `payload` against `requirements`; refuses through `refuse` (a 402). */
    async pay(
      payload: PaymentPayload,
      requirements: PaymentRequirements,
      refuse: Refuse,
    ): Promise<{ result: PaymentResult; settled: SettleResponse }> {
      const auth = authorizationOf(payload);
      if (auth === null) return refuse('payment is not an EIP-3009 authorization', 'payment_invalid', reasons.payload);
      const key = `${auth.from}:${auth.nonce}`.toLowerCase();
      if (inFlight.has(key)) {
        throw new ConflictError('this payment is being settled; wait for that answer (it is credited at most once)', {
          code: 'payment_in_progress',
        });
      }
      inFlight.add(key);
      try {
        return await verifySettleCredit(payload, auth, requirements, refuse);
      } finally {
        inFlight.delete(key);
      }
    },
  };
}

export type PaymentProcessor = ReturnType<typeof createPaymentProcessor>;
