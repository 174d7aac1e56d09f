import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { createReceiptSigner } from '../gateway/receipts/receiptSigner.ts';
import {
  type ChargeRecord,
  decodeReceiptHeader,
  encodeReceiptHeader,
  receiptOf,
  unknownPriceSheetHash,
  verifySignedReceipt,
} from './receipt.ts';

const charge: ChargeRecord = {
  requestId: 'req_0001',
  accountId: 'acct_1',
  model: 'demo-model',
  source: 'DIEM',
  chargedNano: 1_234_567n,
  finishedAtMs: Date.UTC(2026, 0, 2),
  priceSheetHash: `0x${'ab'.repeat(32)}`,
  lines: [
    { sku: 'text.input', units: 100 },
    { sku: 'text.cache_read', units: 40 },
    { sku: 'text.output', units: 7 },
    { sku: 'text.reasoning.long', units: 3 },
  ],
};

describe('receipts', () => {
  it('states the charge: usage by kind from the SKUs, the cost in nano-USD and in DIEM wei', () => {
    expect(receiptOf(charge)).toEqual({
      requestId: 'req_0001',
      account: 'acct_1',
      model: 'demo-model',
      priceSheetHash: charge.priceSheetHash,
      usage: { inputTokens: 100, cachedInputTokens: 40, outputTokens: 7, reasoningTokens: 3, images: 0, characters: 0 },
      costNanoUsd: '1234567',
      costDiemWei: '1234567000000000',
      fundingSource: 'DIEM',
      settledAtMs: charge.finishedAtMs,
    });
    expect(receiptOf({ ...charge, priceSheetHash: null }).priceSheetHash).toBe(unknownPriceSheetHash);
  });

  it('signs deterministically, and verifies only for the signer and the unchanged receipt', async () => {
    const key = generatePrivateKey();
    const signer = createReceiptSigner({ privateKey: key, chainId: 31337 });
    const signed = await signer.sign(charge);
    expect(signed.signer).toBe(privateKeyToAccount(key).address);
    expect((await signer.sign(charge)).signature).toBe(signed.signature);
    expect(await verifySignedReceipt(signed, signer.address)).toBe(true);

    const roundTripped = decodeReceiptHeader(encodeReceiptHeader(signed));
    expect(roundTripped).toEqual(signed);
    expect(await verifySignedReceipt(roundTripped, signer.address)).toBe(true);

    const other = privateKeyToAccount(generatePrivateKey()).address;
    expect(await verifySignedReceipt(signed, other)).toBe(false);
    const inflated = { ...signed, receipt: { ...signed.receipt, costNanoUsd: '1234568' } };
    expect(await verifySignedReceipt(inflated, signer.address)).toBe(false);
    const otherChain = { ...signed, domain: { ...signed.domain, chainId: 1 } };
    expect(await verifySignedReceipt(otherChain, signer.address)).toBe(false);
    const moreTokens = {
      ...signed,
      receipt: { ...signed.receipt, usage: { ...signed.receipt.usage, outputTokens: 8 } },
    };
    expect(await verifySignedReceipt(moreTokens, signer.address)).toBe(false);
  });
});
