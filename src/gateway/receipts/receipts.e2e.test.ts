/**
 * Receipts through a real port, the official openai client and the in-process llama model: a whole answer carries
 * its signed receipt in `x-perdiem-receipt`, a stream in its final chunk; each verifies with viem's `verifyTypedData`
 * on the client side, agrees with the usage history and the key's spend counter, and `GET /api/v1/receipts/{id}`
 * serves the same receipt (the same signature) for the caller's own requests only.
 */
import OpenAI from 'openai';
import { verifyTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReceiptHeader, receiptHeader, receiptTypedData, type SignedReceipt } from '../../core/receipt.ts';
import { demoModel, llamaConfig, startTestGateway, type TestGateway, writeTestModel } from '../testing/fixture.ts';

const receiptKey = generatePrivateKey();
const signer = privateKeyToAccount(receiptKey).address;
const chainId = 31337;

const ask = (content: string) => ({
  model: demoModel,
  messages: [{ role: 'user' as const, content }],
  max_tokens: 6,
  temperature: 0,
});

/** What a client does with a receipt: checks the signature against the operator's address it trusts. */
async function verifiedByClient(signed: SignedReceipt): Promise<boolean> {
  return await verifyTypedData({
    address: signer,
    ...receiptTypedData(signed.domain, signed.receipt),
    signature: signed.signature,
  });
}

describe('signed receipts through the openai client', () => {
  let gw: TestGateway;
  let client: OpenAI;
  let keyId: string;

  async function get(path: string, apiKey: string): Promise<Response> {
    return await fetch(`${gw.server.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  }

  /** The usage-history rows of one request: their amounts sum to what it was charged. */
  async function historyOf(requestId: string) {
    const response = await get('/api/v1/billing/usage-history?limit=500', gw.apiKey);
    const { data } = (await response.json()) as { data: { requestId: string; sku: string; units: number }[] };
    const rows = data.filter((row) => row.requestId === requestId);
    const usage = await gw.ledger.usageHistory({ accountId: gw.accountId, limit: 500 });
    const charged = usage.items.filter((row) => row.requestId === requestId).reduce((s, r) => s + r.amountNano, 0n);
    return { rows, charged };
  }

  async function keySpent(): Promise<bigint> {
    const [usage] = await gw.ledger.keyLimitUsage(keyId);
    return usage!.spentNano;
  }

  beforeAll(async () => {
    gw = await startTestGateway({
      providers: async (dir) => [llamaConfig(await writeTestModel(dir))],
      receiptKey: { privateKey: receiptKey, chainId },
    });
    // A key with a limit: its spend counter is kept.
    const { key, secret } = await gw.ledger.createKey({
      accountId: gw.accountId,
      kind: 'INFERENCE',
      name: 'counted',
      limits: [{ currency: 'TOTAL', period: 'LIFETIME', amountNano: 1_000_000_000n }],
    });
    keyId = key.id;
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: secret, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a whole answer carries a receipt that verifies and agrees with the usage history and the key counter', async () => {
    const spentBefore = await keySpent();
    const { data, response } = await client.chat.completions.create(ask('Hello')).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    const header = response.headers.get(receiptHeader);
    expect(header).not.toBeNull();
    const signed = decodeReceiptHeader(header!);
    expect(signed.signer).toBe(signer);
    expect(signed.domain).toEqual({ name: 'perdiem', version: '1', chainId });
    expect(await verifiedByClient(signed)).toBe(true);

    const { receipt } = signed;
    const cost = (data as unknown as { cost: { nanoUsd: string; source: string } }).cost;
    expect(receipt).toMatchObject({
      requestId,
      account: gw.accountId,
      model: demoModel,
      costNanoUsd: cost.nanoUsd,
      costDiemWei: (BigInt(cost.nanoUsd) * 1_000_000_000n).toString(),
      fundingSource: cost.source,
    });
    expect(receipt.priceSheetHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(receipt.usage.inputTokens).toBe(data.usage!.prompt_tokens);
    expect(receipt.usage.outputTokens).toBe(data.usage!.completion_tokens);
    expect(BigInt(receipt.costNanoUsd)).toBeGreaterThan(0n);

    const history = await historyOf(requestId);
    expect(history.charged.toString()).toBe(receipt.costNanoUsd);
    expect(history.rows.find((row) => row.sku === 'text.output')?.units).toBe(receipt.usage.outputTokens);
    expect((await keySpent()) - spentBefore).toBe(BigInt(receipt.costNanoUsd));

    // Served again from the ledger: the same receipt, the same signature.
    const served = await get(`/api/v1/receipts/${requestId}`, gw.apiKey);
    expect(served.status).toBe(200);
    expect(await served.json()).toEqual(signed);
  });

  it('a stream carries its receipt in the final chunk', async () => {
    const spentBefore = await keySpent();
    const { data: stream, response } = await client.chat.completions
      .create({ ...ask('Tell me'), stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    expect(response.headers.get(receiptHeader)).toBeNull(); // headers leave before the charge is known
    let last: (OpenAI.ChatCompletionChunk & { receipt?: SignedReceipt; cost?: { nanoUsd: string } }) | null = null;
    for await (const chunk of stream) last = chunk;
    const signed = last!.receipt!;
    expect(signed).toBeDefined();
    expect(await verifiedByClient(signed)).toBe(true);
    expect(signed.receipt.requestId).toBe(requestId);
    expect(signed.receipt.costNanoUsd).toBe(last!.cost!.nanoUsd);
    expect(signed.receipt.usage.outputTokens).toBe(last!.usage!.completion_tokens);
    expect((await historyOf(requestId)).charged.toString()).toBe(signed.receipt.costNanoUsd);
    expect((await keySpent()) - spentBefore).toBe(BigInt(signed.receipt.costNanoUsd));
    const served = await get(`/api/v1/receipts/${requestId}`, gw.apiKey);
    expect(await served.json()).toEqual(signed);
  });

  it('an idempotent retry carries the same receipt as the answer it replays', async () => {
    const headers = { 'Idempotency-Key': 'receipt-replay' };
    const first = await client.chat.completions.create(ask('Again'), { headers }).withResponse();
    const second = await client.chat.completions.create(ask('Again'), { headers }).withResponse();
    expect(second.response.headers.get('idempotent-replayed')).toBe('true');
    expect(second.response.headers.get(receiptHeader)).toBe(first.response.headers.get(receiptHeader));
    expect(first.response.headers.get(receiptHeader)).not.toBeNull();

    const streamed = async () => {
      const body = { ...ask('Streamed again'), stream: true as const };
      const { data, response } = await client.chat.completions
        .create(body, { headers: { 'Idempotency-Key': 'receipt-replay-stream' } })
        .withResponse();
      let receipt: SignedReceipt | undefined;
      for await (const chunk of data) receipt = (chunk as { receipt?: SignedReceipt }).receipt ?? receipt;
      return { receipt, replayed: response.headers.get('idempotent-replayed') };
    };
    const original = await streamed();
    const replayed = await streamed();
    expect(replayed.replayed).toBe('true');
    expect(original.receipt).toBeDefined();
    expect(replayed.receipt).toEqual(original.receipt);
  });

  it("refuses another account's receipt and an unknown request with an OpenAI-shaped 404", async () => {
    const { response } = await client.chat.completions.create(ask('Mine')).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    const stranger = await gw.newAccount({ diemNano: 1_000_000n });
    const theirs = await get(`/api/v1/receipts/${requestId}`, stranger.apiKey);
    expect(theirs.status).toBe(404);
    expect(((await theirs.json()) as { error: { code: string } }).error.code).toBe('receipt_not_found');
    const unknown = await get('/api/v1/receipts/req_nothing', gw.apiKey);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'receipt_not_found', type: 'invalid_request_error' } });
  });
});
