/**
 * Idempotency as Stripe does it, through a real port, the official openai client and the in-process llama model:
 * a retry with the same key and body replays the kept answer; one while the first is in flight gets 409; another body
 * under the same key gets 422; a key whose first attempt died without an answer runs again, charged once.
 */
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { allUsage } from '../ledger/testing/allUsage.ts';
import { chatCompletionSchema } from './kinds/chat/chatKind.ts';
import { requestDigest } from './metering/requestDigest.ts';
import { demoModel, llamaConfig, startTestGateway, type TestGateway, writeTestModel } from './testing/fixture.ts';

const ask = (content: string, maxTokens = 6) => ({
  model: demoModel,
  messages: [{ role: 'user' as const, content }],
  max_tokens: maxTokens,
  temperature: 0,
});

async function spent(gw: TestGateway): Promise<bigint> {
  const balance = await gw.ledger.balance(gw.accountId);
  return balance.diem.spentNano + balance.diem.reservedNano;
}

async function errorOf(promise: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  const error = (await promise.then(
    () => null,
    (caught: unknown) => caught,
  )) as InstanceType<typeof OpenAI.APIError> | null;
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return { status: error!.status as number, code: error!.code as string, message: error!.message };
}

describe('idempotency keys (Stripe rules) through the openai client', () => {
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway({ providers: async (dir) => [llamaConfig(await writeTestModel(dir))] });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('replays the kept answer to a retry with the same key and body, charged once', async () => {
    const headers = { 'Idempotency-Key': 'replay-plain' };
    const first = await client.chat.completions.create(ask('Hello'), { headers }).withResponse();
    const spentAfterFirst = await spent(gw);
    const second = await client.chat.completions.create(ask('Hello'), { headers }).withResponse();
    expect(second.response.headers.get('idempotent-replayed')).toBe('true');
    expect(first.response.headers.get('idempotent-replayed')).toBeNull();
    expect(second.data).toEqual(first.data);
    expect(await spent(gw)).toBe(spentAfterFirst);
    // The records keep both: the request id of the attempt that ran, and the client's key.
    const usage = (await allUsage(gw.ledger, gw.accountId)).filter(
      (row) => row.requestId === first.response.headers.get('x-request-id'),
    );
    expect(usage.length).toBeGreaterThan(0);
    const reservation = await gw.ledger.getReservation(usage[0]!.reservationId);
    expect(reservation?.idempotencyKey).toBe('replay-plain');
    expect(reservation?.requestId).toBe(first.response.headers.get('x-request-id'));
  });

  it('answers 422 to another body under a used key, and charges nothing for it', async () => {
    const headers = { 'Idempotency-Key': 'one-body-only' };
    await client.chat.completions.create(ask('First body'), { headers });
    const before = await spent(gw);
    const refused = await errorOf(client.chat.completions.create(ask('Second body'), { headers }));
    expect(refused).toMatchObject({ status: 422, code: 'idempotency_key_mismatch' });
    // The same body on the other mount (/api/v1) is the same request.
    const other = new OpenAI({ baseURL: `${gw.server.url}/api/v1`, apiKey: gw.apiKey, maxRetries: 0 });
    const replayed = await other.chat.completions.create(ask('First body'), { headers }).withResponse();
    expect(replayed.response.headers.get('idempotent-replayed')).toBe('true');
    expect(await spent(gw)).toBe(before);
  });

  it('answers 409 in progress while the first attempt streams, then replays the whole stream', async () => {
    const headers = { 'Idempotency-Key': 'streamed-once' };
    const body = { ...ask('Tell me a story', 48), stream: true as const };
    const stream = await client.chat.completions.create(body, { headers });
    const chunks: unknown[] = [];
    const iterator = stream[Symbol.asyncIterator]();
    chunks.push((await iterator.next()).value);
    // The first attempt holds its reservation until its stream ends.
    const busy = await errorOf(client.chat.completions.create(body, { headers }));
    expect(busy).toMatchObject({ status: 409, code: 'idempotency_request_in_progress' });
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
    const spentAfterFirst = await spent(gw);

    const replay = await client.chat.completions.create(body, { headers }).withResponse();
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    const replayed: unknown[] = [];
    for await (const chunk of replay.data) replayed.push(chunk);
    expect(replayed).toEqual(chunks);
    const last = replayed.at(-1) as { usage: { completion_tokens: number }; cost: { nanoUsd: string } };
    expect(last.usage.completion_tokens).toBeGreaterThan(0);
    expect(BigInt(last.cost.nanoUsd)).toBeGreaterThan(0n);
    expect(await spent(gw)).toBe(spentAfterFirst);
  });

  it('runs a key again, charged once, when its first attempt died holding it', async () => {
    const key = 'died-holding';
    // Another ledger instance on the same file stands for a gateway process that died mid-request.
    const dead = openSqliteLedger({
      path: join(gw.directory, 'ledger.sqlite'),
      clock: Date.now,
      instanceId: 'dead-process',
    });
    const held = await dead.reserve({
      accountId: gw.accountId,
      keyId: gw.keyId,
      idempotencyKey: key,
      requestId: 'req_dead',
      requestHash: requestDigest('/v1/chat/completions', chatCompletionSchema.parse(ask('Hello'))),
      model: demoModel,
      amountNano: 1_000_000n,
    });
    await dead.close();
    const before = await gw.ledger.balance(gw.accountId);
    expect(before.diem.reservedNano).toBeGreaterThanOrEqual(1_000_000n);

    const busy = await errorOf(client.chat.completions.create(ask('Hello'), { headers: { 'Idempotency-Key': key } }));
    expect(busy).toMatchObject({ status: 409, code: 'idempotency_request_in_progress' });
    // What `perdiem up` does at start on its own SQLite file: the dead process's holds are voided.
    expect(await gw.ledger.voidHoldsOfOtherInstances()).toBeGreaterThanOrEqual(1);
    expect((await gw.ledger.getReservation(held.reservation.id))?.status).toBe('VOIDED');

    const retried = await client.chat.completions
      .create(ask('Hello'), { headers: { 'Idempotency-Key': key } })
      .withResponse();
    expect(retried.response.headers.get('idempotent-replayed')).toBeNull();
    const after = await gw.ledger.balance(gw.accountId);
    expect(after.diem.reservedNano).toBe(0n);
    const charged = BigInt((retried.data as unknown as { cost: { nanoUsd: string } }).cost.nanoUsd);
    expect(after.diem.spentNano - before.diem.spentNano).toBe(charged);
  });
});
