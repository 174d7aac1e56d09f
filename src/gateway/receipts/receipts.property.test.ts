/**
 * Receipts against the ledger, over random traffic through a real port, the openai client and the in-process llama
 * model, on both ledger adapters: chat, completions and embeddings on two models with different prices, whole and
 * streamed, some streams dropped by the client at once (charged for what was generated); and requests to an upstream
 * that fails (a local faulty OpenAI-compatible server: no real upstream fails on demand), voided before anything or
 * cut mid-stream and charged for what was delivered. Afterwards:
 * - exactly one receipt per settled charge (every request that left usage rows has one; no other request has one);
 * - the receipts' costNanoUsd sum to the account's debits in the journal, exactly;
 * - every receipt an answer carried is the one the ledger serves later, and verifies with viem.
 */
import fc from 'fast-check';
import OpenAI from 'openai';
import { verifyTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReceiptHeader, receiptHeader, receiptTypedData, type SignedReceipt } from '../../core/receipt.ts';
import { openTestPostgresLedger, postgresSkipReason } from '../../ledger/testing/harness.ts';
import type { Ledger } from '../../ledger/types.ts';
import { type FaultyUpstream, startFaultyUpstream } from '../testing/faultyUpstream.ts';
import { demoModel, startTestGateway, type TestGateway, writeTestModel } from '../testing/fixture.ts';

const receiptKey = generatePrivateKey();
const signer = privateKeyToAccount(receiptKey).address;
const pricierModel = 'perdiem-demo-pricier';
/** Runs per adapter, and requests per run. */
const runs = 5;
const requestsMax = 12;

const operation = fc.record({
  kind: fc.constantFrom('chat', 'completion', 'embedding', 'failed', 'cut'),
  model: fc.constantFrom(demoModel, pricierModel),
  stream: fc.boolean(),
  /** The client drops a stream before reading it. */
  dropped: fc.boolean(),
  maxTokens: fc.integer({ min: 1, max: 8 }),
  prompt: fc.constantFrom('Hello', 'Tell me a story', 'per diem', 'A B C D E F'),
});
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

/** Sends one request; returns its request id and the receipt its answer carried (none when dropped). */
async function send(client: OpenAI, op: Operation): Promise<{ requestId: string; carried: SignedReceipt | null }> {
  if (op.kind === 'failed' || op.kind === 'cut') return await sendToFaultyUpstream(client, op.kind);
  if (op.kind === 'embedding') {
    const { response } = await client.embeddings.create({ model: op.model, input: op.prompt }).withResponse();
    return {
      requestId: response.headers.get('x-request-id')!,
      carried: decodeReceiptHeader(response.headers.get(receiptHeader)!),
    };
  }
  const body = { model: op.model, max_tokens: op.maxTokens, temperature: 0 };
  if (!op.stream) {
    const { response } =
      op.kind === 'chat'
        ? await client.chat.completions
            .create({ ...body, messages: [{ role: 'user', content: op.prompt }] })
            .withResponse()
        : await client.completions.create({ ...body, prompt: op.prompt }).withResponse();
    return {
      requestId: response.headers.get('x-request-id')!,
      carried: decodeReceiptHeader(response.headers.get(receiptHeader)!),
    };
  }
  const { data: stream, response } =
    op.kind === 'chat'
      ? await client.chat.completions
          .create({ ...body, stream: true, messages: [{ role: 'user', content: op.prompt }] })
          .withResponse()
      : await client.completions.create({ ...body, stream: true, prompt: op.prompt }).withResponse();
  const requestId = response.headers.get('x-request-id')!;
  if (op.dropped) {
    stream.controller.abort();
    return { requestId, carried: null };
  }
  let carried: SignedReceipt | null = null;
  for await (const chunk of stream) carried = (chunk as { receipt?: SignedReceipt }).receipt ?? carried;
  return { requestId, carried };
}

/** `openLedger` undefined: the fixture's SQLite file; null: skipped (PostgreSQL unreachable). */
/**
 * `failed`: the upstream answers 500 before anything (voided); `cut`: it streams two chunks and drops the connection
 * (charged for what was delivered, no receipt in the stream, which ends with an error event).
 */
async function sendToFaultyUpstream(client: OpenAI, kind: 'failed' | 'cut') {
  const model = kind === 'failed' ? 'fault-500' : 'fault-reset-after';
  const request = { model, stream: true as const, messages: [{ role: 'user' as const, content: 'x' }], max_tokens: 8 };
  try {
    const { data: stream, response } = await client.chat.completions.create(request).withResponse();
    await (async () => {
      for await (const _ of stream) {
        // drained until the stream's error event
      }
    })().catch(() => null);
    return { requestId: response.headers.get('x-request-id')!, carried: null };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    const requestId = error.headers?.get('x-request-id');
    if (!requestId) throw new Error(`a failed answer without x-request-id: ${error.message}`);
    return { requestId, carried: null };
  }
}

function describeReceiptsProperty(
  name: string,
  openLedger: ((directory: string, clock: () => number) => Promise<Ledger>) | null | undefined,
) {
  describe.skipIf(openLedger === null)(`receipts against the ledger (${name})`, { timeout: 300_000 }, () => {
    let gw: TestGateway;
    let upstream: FaultyUpstream;

    beforeAll(async () => {
      upstream = await startFaultyUpstream();
      gw = await startTestGateway({
        providers: async (dir) => {
          const path = await writeTestModel(dir);
          const models = [demoModel, pricierModel].map((id) => ({ id, path, contextSize: 512 }));
          return [
            { kind: 'llama', id: 'local', models, threads: 1 },
            {
              kind: 'openai',
              id: 'faulty',
              upstreams: [{ name: 'faulty', baseUrl: upstream.baseUrl }],
              models: ['fault-500', 'fault-reset-after'].map((id) => ({ id })),
              retries: 0,
            },
          ];
        },
        pricedModels: ['fault-500', 'fault-reset-after'],
        receiptKey: { privateKey: receiptKey, chainId: 31337 },
        ...(openLedger ? { ledger: openLedger } : {}),
      });
      const base = gw.prices.current().versions.at(-1)!;
      await gw.prices.add({
        effectiveFromMs: base.effectiveFromMs + 1,
        models: {
          ...base.models,
          [pricierModel]: { kind: 'text', inputPer1M: 3_000_000_001n, outputPer1M: 11_000_000_003n },
        },
      });
    });
    afterAll(async () => {
      await gw?.close();
      await upstream?.close();
    });

    it('one receipt per settled charge, summing exactly to the journal debits', async () => {
      const seen = { receipts: 0, uncharged: 0, kinds: new Set<string>() };
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: requestsMax }), async (ops) => {
          const account = await gw.newAccount({ diemNano: 10_000_000_000n });
          const client = new OpenAI({ baseURL: gw.baseURL, apiKey: account.apiKey, maxRetries: 0 });
          const sent = [];
          for (const op of ops) {
            sent.push(await send(client, op));
            const streamed = op.stream && (op.kind === 'chat' || op.kind === 'completion');
            seen.kinds.add(`${op.kind}${streamed ? (op.dropped ? ' dropped' : ' stream') : ''}`);
          }
          // Dropped streams finish on the server after the client has gone: wait until nothing is held.
          await expect
            .poll(async () => (await gw.ledger.balance(account.accountId)).diem.reservedNano, { timeout: 20_000 })
            .toBe(0n);

          const served = new Map<string, SignedReceipt>();
          for (const { requestId, carried } of sent) {
            const response = await fetch(`${gw.server.url}/api/v1/receipts/${requestId}`, {
              headers: { authorization: `Bearer ${account.apiKey}` },
            });
            expect([200, 404]).toContain(response.status);
            if (response.status === 200) served.set(requestId, (await response.json()) as SignedReceipt);
            else seen.uncharged++;
            if (carried) expect(served.get(requestId)).toEqual(carried);
          }

          const usage = await gw.ledger.usageHistory({ accountId: account.accountId, limit: 500 });
          const charged = new Set(usage.items.map((row) => row.requestId));
          expect(new Set(served.keys())).toEqual(charged);

          const debits = (await gw.ledger.journal())
            .filter((e) => e.kind === 'CHARGE' && e.side === 'DEBIT')
            .filter((e) => e.ledgerAccount.startsWith(`account:${account.accountId}:`))
            .reduce((sum, e) => sum + e.amountNano, 0n);
          const receipts = [...served.values()].reduce((sum, s) => sum + BigInt(s.receipt.costNanoUsd), 0n);
          expect(receipts).toBe(debits);

          seen.receipts += served.size;
          for (const signed of served.values()) {
            expect(signed.receipt.account).toBe(account.accountId);
            const typed = receiptTypedData(signed.domain, signed.receipt);
            expect(await verifyTypedData({ address: signer, ...typed, signature: signed.signature })).toBe(true);
          }
        }),
        { numRuns: runs, seed: 16, endOnFailure: true },
      );
      // The traffic was mixed: every kind was sent, and the property had charges to check.
      expect(seen.kinds.size).toBe(9);
      expect(seen.receipts).toBeGreaterThan(runs);
      expect(seen.uncharged).toBeGreaterThan(0);
      if (process.env.PERDIEM_TEST_LOG) console.log(`${name}: ${seen.receipts} receipts, ${seen.uncharged} uncharged`);
    });
  });
}

const postgresReachable = (await postgresSkipReason()) === null;
describeReceiptsProperty('sqlite', undefined);
describeReceiptsProperty(
  'postgres',
  postgresReachable ? (_directory, clock) => openTestPostgresLedger({ clock }) : null,
);
