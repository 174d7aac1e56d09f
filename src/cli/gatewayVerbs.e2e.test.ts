/**
 * The account and operator verbs against a real gateway on a port (the demo GGUF through the llama provider), driven
 * in-process through `main(argv, io)`: balance, models, usage (table, JSON, CSV), keys, prices, and the errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoModel,
  llamaConfig,
  operatorToken,
  startTestGateway,
  type TestGateway,
  writeTestModel,
} from '../gateway/testing/fixture.ts';
import { main } from './main.ts';
import { captureIo, closedPort } from './testing/captureIo.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-cli-gateway-'));
let gw: TestGateway;

async function run(...argv: string[]) {
  const captured = captureIo(cwd, { PERDIEM_API_KEY: gw.apiKey });
  const code = await main([...argv, '--gateway', gw.server.url], captured.io);
  return { code, out: captured.stdout(), err: captured.stderr() };
}

beforeAll(async () => {
  gw = await startTestGateway({ providers: async (dir) => [llamaConfig(await writeTestModel(dir))] });
  const response = await fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: demoModel, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }),
  });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  await gw?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('gateway verbs', () => {
  it('balance shows the DIEM allowance left, credits, USD and the next epoch', async () => {
    const { code, out, err } = await run('balance');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^DIEM\s+\$0\.99\d* left of \$1 this epoch \(epoch \d+\)$/m);
    expect(out).toMatch(/^spends from\s+DIEM$/m);
    expect(out).toMatch(/^next epoch\s+\d{4}-\d{2}-\d{2}T00:00:00/m);
    const json = JSON.parse((await run('balance', '--json')).out);
    expect(json.gateway.diemEpochAllocation).toBe(1);
    expect(json.chain).toBeNull();
  });

  it('models lists the served model with its price per 1M tokens', async () => {
    const { code, out } = await run('models');
    expect(code).toBe(0);
    expect(out).toMatch(/^MODEL\s+TYPE\s+CONTEXT\s+INPUT\s+OUTPUT\s+UNIT$/m);
    expect(out).toMatch(new RegExp(`^${demoModel}\\s+text\\s+\\d+\\s+\\$2\\s+\\$8\\s+per 1M tokens$`, 'm'));
  });

  it('usage shows the completion as a table, as JSON and as CSV', async () => {
    const { code, out } = await run('usage');
    expect(code).toBe(0);
    expect(out).toMatch(/^TIME \(UTC\)\s+MODEL\s+SKU\s+UNITS\s+AMOUNT\s+SOURCE\s+LATENCY\s+REQUEST$/m);
    expect(out).toMatch(new RegExp(`${demoModel}\\s+\\S+\\s+\\d+\\s+\\$0\\.\\d+\\s+DIEM`));
    const page = JSON.parse((await run('usage', '--json')).out);
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data[0].model).toBe(demoModel);
    const csv = await run('usage', '--csv');
    expect(csv.out.split('\n')[0]).toMatch(/^id,requestId,timestamp,keyId,model,/);
    expect(csv.out.split('\n').length).toBe(page.data.length + 1);
  });

  it('keys list shows the account’s keys without secrets', async () => {
    const { code, out } = await run('keys', 'list');
    expect(code).toBe(0);
    expect(out).toMatch(/^ID\s+TYPE\s+NAME\s+KEY HINT/m);
    expect(out).toContain(gw.keyId);
    expect(out).toMatch(/ADMIN\s+admin/);
    expect(out).not.toContain(gw.apiKey);
  });

  it('keys create with an INFERENCE key says an ADMIN key is needed, exit 1', async () => {
    const { code, err } = await run('keys', 'create', '--name', 'ci');
    expect(code).toBe(1);
    expect(err).toMatch(
      /^perdiem keys: gateway answered 403 \(admin_key_required\): this route needs an ADMIN API key/,
    );
    expect(err).toContain('INFERENCE key');
  });

  it('keys create with an ADMIN key sets limits, expiry and models; the new key works; revoke removes it', async () => {
    const created = await run(
      'keys',
      'create',
      '--api-key',
      gw.adminKey,
      '--name',
      'ci bot',
      '--limit',
      '5:USD',
      '--limit',
      '20:DIEM:MONTH',
      '--expires',
      '2099-01-01T00:00:00Z',
      '--model',
      demoModel,
      '--json',
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.out);
    expect(key).toMatchObject({
      apiKeyType: 'INFERENCE',
      description: 'ci bot',
      expiresAt: '2099-01-01T00:00:00.000Z',
      allowedModels: [demoModel],
    });
    expect(key.limits).toHaveLength(2);
    expect(key.limits).toEqual(
      expect.arrayContaining([
        { currency: 'USD', period: 'EPOCH', amount: '5', covers: ['CREDITS', 'USD'] },
        { currency: 'DIEM', period: 'MONTH', amount: '20', covers: ['DIEM'] },
      ]),
    );
    expect((await run('balance', '--api-key', key.apiKey)).code).toBe(0);

    const updated = await run(
      'keys',
      'update',
      key.id,
      '--api-key',
      gw.adminKey,
      '--name',
      'ci bot 2',
      '--limit',
      '3:USD',
    );
    expect(updated.code).toBe(0);
    expect(updated.out).toMatch(/^name\s+ci bot 2$/m);
    expect(updated.out).toMatch(/^limits\s+3 USD\/EPOCH/m);

    // The new key's own limits in force: its rate limits, and its spend limit.
    const limits = await run('keys', 'limits', '--api-key', key.apiKey);
    expect(limits.code).toBe(0);
    expect(limits.out).toMatch(/^key\s+RPM\s+\d+\s+\d+/m);
    expect(limits.out).toMatch(/^account\s+TPM\s+\d+\s+\d+/m);
    expect(limits.out).toMatch(/^USD\s+EPOCH\s+3\b/m);

    const revoked = await run('keys', 'revoke', key.id, '--api-key', gw.adminKey);
    expect(revoked).toMatchObject({ code: 0, out: `revoked ${key.id}` });
    const after = await run('balance', '--api-key', key.apiKey);
    expect(after.code).toBe(1);
    expect(after.err).toMatch(/^perdiem balance: gateway answered 401/);
  });

  it('prices set announces a sheet version from the next epoch with the new price and keeps the other models', async () => {
    const { code, out, err } = await run(
      'prices',
      'set',
      demoModel,
      '--input-per-1m',
      '0.2',
      '--output-per-1m',
      '0.8',
      '--override',
      '--reason',
      'the demo gets cheaper',
      '--operator-token',
      operatorToken,
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    const nextEpoch = new Date((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000).toISOString();
    expect(out).toMatch(
      new RegExp(`^${demoModel}: \\$0\\.2 in / \\$0\\.8 out per 1M tokens, effective from ${nextEpoch}`),
    );
    expect(out).toMatch(/^upstream-demo\s+text\s+\$2 in \/ \$8 out per 1M tokens$/m);
    // In force from the next epoch; until then the models list keeps the price and shows the next one.
    expect((await run('models')).out).toMatch(new RegExp(`^${demoModel}\\s+text\\s+\\d+\\s+\\$2\\s+\\$8`, 'm'));
    const models = JSON.parse((await run('models', '--json')).out) as {
      id: string;
      model_spec: { pricing: { next?: unknown } };
    }[];
    expect(models.find((model) => model.id === demoModel)!.model_spec.pricing.next).toMatchObject({
      input: { usd: 0.2 },
      output: { usd: 0.8 },
      effective_from: nextEpoch,
      notice: 'the demo gets cheaper',
    });
    const listed = JSON.parse((await run('prices', 'list', '--json', '--operator-token', operatorToken)).out);
    expect(listed.length).toBe(2);
    const refused = await run(
      ...['prices', 'set', demoModel, '--input-per-1m', '9', '--output-per-1m', '9', '--operator-token', operatorToken],
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/gateway answered 400 \(price_change_exceeds_bound\)/);
  });

  it('prices set without the operator token is a 401; a bad price is a usage error', async () => {
    const denied = await run(
      'prices',
      'set',
      demoModel,
      '--input-per-1m',
      '1',
      '--output-per-1m',
      '1',
      '--operator-token',
      'wrong',
    );
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/^perdiem prices: gateway answered 401 \(invalid_operator_token\)/);
    const bad = await run('prices', 'set', demoModel, '--input-per-1m', 'free', '--output-per-1m', '1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--input-per-1m must be a non-negative USD amount/);
  });

  it('says it cannot reach a gateway that is down, exit 1', async () => {
    const port = await closedPort();
    const captured = captureIo(cwd, { PERDIEM_API_KEY: 'x' });
    const code = await main(['models', '--gateway', `http://127.0.0.1:${port}`], captured.io);
    expect(code).toBe(1);
    expect(captured.stderr()).toMatch(
      /^perdiem models: cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
    );
  });

  it('rejects bad key and usage arguments before any request', async () => {
    expect((await run('keys', 'create', '--limit', '5:EUR')).code).toBe(2);
    expect((await run('keys', 'create', '--type', 'ROOT')).err).toMatch(/--type must be INFERENCE or ADMIN/);
    expect((await run('keys')).err).toMatch(/missing list, limits, create, update or revoke/);
    expect((await run('keys', 'update', 'key_1')).err).toMatch(/nothing to change/);
    expect((await run('keys', 'create', '--rpm', '0')).err).toMatch(/--rpm must be a positive integer/);
    expect((await run('usage', '--limit', '0')).err).toMatch(/--limit must be an integer from 1 to 500/);
    expect((await run('usage', '--since', 'yesterday')).err).toMatch(/--since must be an ISO-8601 time/);
  });
});
