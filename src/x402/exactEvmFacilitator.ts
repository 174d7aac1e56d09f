/**
 * The project's own x402 facilitator for the `exact` scheme on one EVM chain, with EIP-3009
 * `transferWithAuthorization` (TestUSDC locally; any EIP-3009 token, USDC included, elsewhere).
 *
 * verify: version, scheme, network, asset, recipient, amount, validity window, EIP-712 domain, signature (EOA or
 * EIP-1271 through viem), nonce unused on chain, balance. settle: verifies again, submits the authorization with
 * the facilitator's own key (it pays the gas), waits for the receipt.
 *
 * Reason codes are those of `@x402/evm`'s facilitator, so clients read the same errors from either.
 */
import type {
  Network,
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  SupportedResponse,
  VerifyResponse,
} from '@x402/core/types';
import { type Address, BaseError, getAddress, type Hex, isAddressEqual } from 'viem';
import type { PublicClient, WalletClient } from '../chain/clients.ts';
import { testUsdcAbi } from '../chain/generated/contracts.ts';
import { type Clock, secondMs } from '../core/epoch.ts';
import { authorizationOf, type Eip3009Authorization, transferWithAuthorizationTypedData } from './eip3009.ts';
import type { Facilitator } from './facilitatorTypes.ts';
import { settleReceiptTimeoutMs, validBeforeMarginSeconds } from './limits.ts';
import { evmNetwork } from './network.ts';

export const reasons = {
  version: 'invalid_x402_version',
  scheme: 'invalid_exact_evm_scheme',
  network: 'invalid_exact_evm_network_mismatch',
  asset: 'invalid_exact_evm_asset_mismatch',
  payload: 'invalid_exact_evm_payload',
  domain: 'invalid_exact_evm_missing_eip712_domain',
  recipient: 'invalid_exact_evm_recipient_mismatch',
  value: 'invalid_exact_evm_payload_authorization_value_mismatch',
  validBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  validAfter: 'invalid_exact_evm_payload_authorization_valid_after',
  signature: 'invalid_exact_evm_signature',
  nonceUsed: 'invalid_exact_evm_nonce_already_used',
  balance: 'invalid_exact_evm_insufficient_balance',
  inFlight: 'invalid_exact_evm_settlement_in_progress',
  transaction: 'invalid_exact_evm_transaction_failed',
} as const;

export interface ExactEvmFacilitatorDeps {
  /** Reads the chain (signature checks through EIP-1271, nonce state, balances). */
  client: PublicClient;
  /** Submits settlements and pays their gas. */
  wallet: WalletClient;
  /** Unix ms. */
  clock: Clock;
}

type Invalid = { reason: string; message: string };
type Checked = { ok: true; authorization: Eip3009Authorization } | ({ ok: false; payer?: Address } & Invalid);

function invalid(reason: string, message: string, payer?: Address): Checked {
  return payer === undefined ? { ok: false, reason, message } : { ok: false, reason, message, payer };
}

/** The checks that need no chain: shapes, and the payload against the requirements and the clock. */
export function checkPayment(
  payload: PaymentPayload,
  requirements: PaymentRequirements,
  chainId: number,
  nowSeconds: bigint,
): Checked {
  if (payload.x402Version !== 2) return invalid(reasons.version, `x402 version ${payload.x402Version} is not 2`);
  if (requirements.scheme !== 'exact' || payload.accepted?.scheme !== 'exact') {
    return invalid(reasons.scheme, 'only the exact scheme is supported');
  }
  const network = evmNetwork(chainId);
  if (requirements.network !== network || payload.accepted.network !== network) {
    return invalid(reasons.network, `this facilitator settles on ${network} only`);
  }
  if (!sameAddress(payload.accepted.asset, requirements.asset)) {
    return invalid(reasons.asset, `payment is in asset ${payload.accepted.asset}, not ${requirements.asset}`);
  }
  const authorization = authorizationOf(payload);
  if (authorization === null) return invalid(reasons.payload, 'payload is not an EIP-3009 authorization');
  const payer = authorization.from;
  if (!sameAddress(authorization.to, requirements.payTo)) {
    return invalid(reasons.recipient, `payment is to ${authorization.to}, not ${requirements.payTo}`, payer);
  }
  if (authorization.value.toString() !== requirements.amount) {
    return invalid(reasons.value, `payment is for ${authorization.value}, not ${requirements.amount}`, payer);
  }
  if (authorization.validBefore < nowSeconds + BigInt(validBeforeMarginSeconds)) {
    return invalid(reasons.validBefore, 'authorization has expired (or expires too soon to settle)', payer);
  }
  if (authorization.validAfter >= nowSeconds) {
    return invalid(reasons.validAfter, 'authorization is not valid yet', payer);
  }
  if (typeof requirements.extra?.name !== 'string' || typeof requirements.extra?.version !== 'string') {
    return invalid(reasons.domain, 'requirements carry no EIP-712 domain (extra.name, extra.version)', payer);
  }
  return { ok: true, authorization };
}

function sameAddress(a: string, b: string): boolean {
  try {
    return isAddressEqual(a as Address, b as Address);
  } catch {
    return false;
  }
}

/** The checks that read the chain: the signature (EOA or EIP-1271), the nonce's state and the payer's balance. */
async function checkOnChain(
  client: PublicClient,
  chainId: number,
  auth: Eip3009Authorization,
  requirements: PaymentRequirements,
): Promise<Checked> {
  const asset = getAddress(requirements.asset);
  const payer = auth.from;
  const domain = {
    name: requirements.extra.name as string,
    version: requirements.extra.version as string,
    chainId,
    verifyingContract: asset,
  };
  const signed = await client
    .verifyTypedData({ address: payer, ...transferWithAuthorizationTypedData(domain, auth), signature: auth.signature })
    .catch(() => false);
  if (!signed) return invalid(reasons.signature, 'signature is not the payer’s over this authorization', payer);
  const [used, balance] = await Promise.all([
    client.readContract({
      address: asset,
      abi: testUsdcAbi,
      functionName: 'authorizationState',
      args: [payer, auth.nonce],
    }),
    client.readContract({ address: asset, abi: testUsdcAbi, functionName: 'balanceOf', args: [payer] }),
  ]);
  if (used) return invalid(reasons.nonceUsed, 'authorization nonce was already used on chain', payer);
  if (balance < auth.value) return invalid(reasons.balance, `payer holds ${balance}, needs ${auth.value}`, payer);
  return { ok: true, authorization: auth };
}

/** Submits authorizations one at a time, so the facilitator's own account nonces never collide. */
function serialSubmitter(wallet: WalletClient): (auth: Eip3009Authorization, asset: Address) => Promise<Hex> {
  let submitting: Promise<unknown> = Promise.resolve();
  return async (auth, asset) => {
    const send = submitting.then(() =>
      wallet.writeContract({
        address: asset,
        abi: testUsdcAbi,
        functionName: 'transferWithAuthorization',
        args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, auth.signature],
      }),
    );
    submitting = send.catch(() => undefined);
    return await send;
  };
}

function settleFailure(network: Network) {
  return (reason: string, message: string, payer?: string, transaction = ''): SettleResponse => ({
    success: false,
    errorReason: reason,
    errorMessage: message,
    transaction,
    network,
    ...(payer === undefined ? {} : { payer }),
  });
}

export function createExactEvmFacilitator(deps: ExactEvmFacilitatorDeps): Facilitator & { readonly address: Address } {
  const chainId = deps.wallet.chain.id;
  const network = evmNetwork(chainId);
  const settling = new Set<string>();
  const submit = serialSubmitter(deps.wallet);
  const failed = settleFailure(network);

  async function check(payload: PaymentPayload, requirements: PaymentRequirements): Promise<Checked> {
    const nowSeconds = BigInt(Math.floor(deps.clock() / secondMs));
    const offChain = checkPayment(payload, requirements, chainId, nowSeconds);
    if (!offChain.ok) return offChain;
    return await checkOnChain(deps.client, chainId, offChain.authorization, requirements);
  }

  /** Checks again, submits, waits for the receipt. */
  async function settleChecked(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const checked = await check(payload, requirements);
    if (!checked.ok) return failed(checked.reason, checked.message, checked.payer);
    const auth = checked.authorization;
    let hash: Hex;
    try {
      hash = await submit(auth, getAddress(requirements.asset));
    } catch (error) {
      return failed(reasons.transaction, `settlement was not submitted: ${shortMessage(error)}`, auth.from);
    }
    const receipt = await deps.client.waitForTransactionReceipt({ hash, timeout: settleReceiptTimeoutMs });
    if (receipt.status !== 'success') {
      return failed(reasons.transaction, 'settlement transaction reverted', auth.from, hash);
    }
    return { success: true, transaction: hash, network, payer: auth.from, amount: auth.value.toString() };
  }

  return {
    address: deps.wallet.account.address,

    async getSupported(): Promise<SupportedResponse> {
      return {
        kinds: [{ x402Version: 2, scheme: 'exact', network }],
        extensions: [],
        signers: { 'eip155:*': [deps.wallet.account.address] },
      };
    },

    async verify(payload, requirements): Promise<VerifyResponse> {
      const checked = await check(payload, requirements);
      if (!checked.ok) {
        return { isValid: false, invalidReason: checked.reason, invalidMessage: checked.message, payer: checked.payer };
      }
      return { isValid: true, payer: checked.authorization.from };
    },

    async settle(payload, requirements): Promise<SettleResponse> {
      const claimed = authorizationOf(payload);
      const key = claimed ? `${claimed.from}:${claimed.nonce}` : null;
      if (key !== null && settling.has(key)) {
        return failed(reasons.inFlight, 'this authorization is already being settled', claimed?.from);
      }
      if (key !== null) settling.add(key);
      try {
        return await settleChecked(payload, requirements);
      } finally {
        if (key !== null) settling.delete(key);
      }
    },
  };
}

function shortMessage(error: unknown): string {
  if (error instanceof BaseError) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
