import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { createGateway, gatewayLogger } from '../app.ts';
import type { ChatCompletionRequest, Provider } from '../providers/index.ts';
import { fakeModels, fakePriceBook, fakeProvider, fakeRegistry } from '../testing/fakeRegistry.ts';
import { ignoredParamsHeader } from './validate.ts';

describe('validate: Venice-only fields', () => {
  let directory: string;
  let ledger: Ledger;
  let secret: string;
  const upstream: ChatCompletionRequest[] = [];
  const recording: Provider = {
    ...fakeProvider,
    chat: (request, options) => {
      upstream.push(request);
      return fakeProvider.chat(request, options);
    },
  };
  let app: ReturnType<typeof createGateway>;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-validate-'));
    ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
    const account = await ledger.createAccount();
    await ledger.setDiemAllowance(account.id, epochAt(Date.now()), 1_000_000_000n);
    secret = (await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'v' })).secret;
    const registry = fakeRegistry();
    app = createGateway({
      ledger,
      // The routing reads the registry's providers: the recording one stands in for them.
      registry: { ...registry, providers: [recording], providersFor: () => [recording] },
      prices: fakePriceBook,
      logger: gatewayLogger('silent'),
    });
  });
  afterAll(async () => {
    await ledger?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('are dropped before the upstream sees the request, and named in x-ignored-params', async () => {
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: fakeModels.text,
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.5,
        top_k: 40,
        venice_parameters: { include_venice_system_prompt: false },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get(ignoredParamsHeader)).toBe('top_k, venice_parameters');
    const sent = upstream.at(-1) as unknown as Record<string, unknown>;
    expect(sent.temperature).toBe(0.5);
    expect(sent).not.toHaveProperty('top_k');
    expect(sent).not.toHaveProperty('venice_parameters');
  });
});
