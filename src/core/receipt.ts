/**
 * A signed receipt for one charge: EIP-712 typed data that the gateway operator's key signs and anyone can check
 * with viem's `verifyTypedData`. Every field is read from the ledger's record of the charge (`ChargeRecord`), so a
 * receipt rebuilt later from the ledger is the same receipt, and (ECDSA in viem is deterministic, RFC 6979) the same
 * signature.
 *
 * Domain: name `perdiem`, version `1`, the chain the gateway's DIEM lives on. No `verifyingContract`: no contract
 * checks receipts; the signer's address is what a holder trusts (`perdiem up` writes it to state.json).
 */
import { type Address, type Hex, isAddressEqual, type TypedDataDomain, verifyTypedData } from 'viem';
import { type NanoUsd, nanoUsdToDiemWei } from './money.ts';
import { type UsageBreakdown, usageBreakdownOf } from './usageBreakdown.ts';

export const receiptDomainName = 'perdiem';
export const receiptDomainVersion = '1';
/** The sheet hash of a charge priced before sheets were recorded with charges. */
export const unknownPriceSheetHash: Hex = `0x${'0'.repeat(64)}`;

export const receiptTypes = {
  Receipt: [
    { name: 'requestId', type: 'string' },
    { name: 'account', type: 'string' },
    { name: 'model', type: 'string' },
    { name: 'priceSheetHash', type: 'bytes32' },
    { name: 'usage', type: 'Usage' },
    { name: 'costNanoUsd', type: 'uint256' },
    { name: 'costDiemWei', type: 'uint256' },
    { name: 'fundingSource', type: 'string' },
    { name: 'settledAtMs', type: 'uint64' },
  ],
  Usage: [
    { name: 'inputTokens', type: 'uint64' },
    { name: 'cachedInputTokens', type: 'uint64' },
    { name: 'outputTokens', type: 'uint64' },
    { name: 'reasoningTokens', type: 'uint64' },
    { name: 'images', type: 'uint64' },
    { name: 'characters', type: 'uint64' },
  ],
} as const;

export interface ReceiptDomain {
  name: typeof receiptDomainName;
  version: typeof receiptDomainVersion;
  chainId: number;
}

/** A receipt as JSON carries it: amounts as decimal strings, counts and times as numbers. */
export interface Receipt {
  requestId: string;
  /** The ledger account charged. */
  account: string;
  model: string;
  /** keccak256 of the canonical price sheet that priced the request (`core/priceSheetHash`). */
  priceSheetHash: Hex;
  usage: UsageBreakdown;
  costNanoUsd: string;
  /** The same cost in DIEM wei (1 DIEM pays for $1): costNanoUsd × 10^9, exact. */
  costDiemWei: string;
  fundingSource: 'DIEM' | 'CREDITS' | 'USD';
  /** Unix ms of the settle. */
  settledAtMs: number;
}

/** What travels in the header, the final SSE chunk and `GET /api/v1/receipts/{requestId}`. */
export interface SignedReceipt {
  receipt: Receipt;
  signature: Hex;
  signer: Address;
  domain: ReceiptDomain;
}

/** One settled charge as the ledger holds it: what a receipt is made of. */
export interface ChargeRecord {
  requestId: string;
  accountId: string;
  model: string;
  source: Receipt['fundingSource'];
  /** What the account paid (the reservation's charged amount; its usage rows sum to it). */
  chargedNano: NanoUsd;
  finishedAtMs: number;
  priceSheetHash: Hex | null;
  /** The priced lines: SKU and units. */
  lines: readonly { sku: string; units: number }[];
}

export function receiptDomain(chainId: number): ReceiptDomain {
  return { name: receiptDomainName, version: receiptDomainVersion, chainId };
}

export function receiptOf(charge: ChargeRecord): Receipt {
  return {
    requestId: charge.requestId,
    account: charge.accountId,
    model: charge.model,
    priceSheetHash: charge.priceSheetHash ?? unknownPriceSheetHash,
    usage: usageBreakdownOf(charge.lines),
    costNanoUsd: charge.chargedNano.toString(),
    costDiemWei: nanoUsdToDiemWei(charge.chargedNano).toString(),
    fundingSource: charge.source,
    settledAtMs: charge.finishedAtMs,
  };
}

/** The typed data to sign or verify, for viem's `signTypedData` / `verifyTypedData`. */
export function receiptTypedData(domain: ReceiptDomain, receipt: Receipt) {
  const u = receipt.usage;
  return {
    domain: domain satisfies TypedDataDomain,
    types: receiptTypes,
    primaryType: 'Receipt' as const,
    message: {
      requestId: receipt.requestId,
      account: receipt.account,
      model: receipt.model,
      priceSheetHash: receipt.priceSheetHash,
      usage: {
        inputTokens: BigInt(u.inputTokens),
        cachedInputTokens: BigInt(u.cachedInputTokens),
        outputTokens: BigInt(u.outputTokens),
        reasoningTokens: BigInt(u.reasoningTokens),
        images: BigInt(u.images),
        characters: BigInt(u.characters),
      },
      costNanoUsd: BigInt(receipt.costNanoUsd),
      costDiemWei: BigInt(receipt.costDiemWei),
      fundingSource: receipt.fundingSource,
      settledAtMs: BigInt(receipt.settledAtMs),
    },
  };
}

/** The `x-perdiem-receipt` header's value: base64url of the signed receipt's JSON. */
export function encodeReceiptHeader(signed: SignedReceipt): string {
  return Buffer.from(JSON.stringify(signed), 'utf8').toString('base64url');
}

export function decodeReceiptHeader(value: string): SignedReceipt {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as SignedReceipt;
}

export const receiptHeader = 'x-perdiem-receipt';

/**
 * True when `signed` carries a valid signature by `trustedSigner` over its receipt, in the perdiem domain. The
 * signer the envelope names is not trusted on its own: the caller says whom it trusts.
 */
export async function verifySignedReceipt(signed: SignedReceipt, trustedSigner: Address): Promise<boolean> {
  if (!isAddressEqual(signed.signer, trustedSigner)) return false;
  if (signed.domain.name !== receiptDomainName || signed.domain.version !== receiptDomainVersion) return false;
  return await verifyTypedData({
    address: trustedSigner,
    ...receiptTypedData(signed.domain, signed.receipt),
    signature: signed.signature,
  });
}
