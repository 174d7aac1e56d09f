/** An in-process gateway (app.request) on the fake registry and a SQLite ledger file, for unit tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochAt } from '../../core/epoch.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { createGateway, type GatewayOptions, gatewayLogger } from '../app.ts';
import type { RateLimitConfig } from '../limits.ts';
import { fakePriceBook, fakeRegistry } from './fakeRegistry.ts';

export interface InProcessGateway {
  app: ReturnType<typeof createGateway>;
  ledger: Ledger;
  accountId: string;
  apiKey: string;
  adminKey: string;
  keyId: string;
  clock: { now: () => number; advance(ms: number): void };
  request(path: string, init?: RequestInit & { json?: unknown; key?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export const operatorToken = 'operator-test-token';

export async function startInProcessGateway(
  options: {
    rateLimits?: Partial<RateLimitConfig>;
    diemNano?: bigint;
    walletKeys?: GatewayOptions['walletKeys'];
    compute?: GatewayOptions['compute'];
    pricing?: GatewayOptions['pricing'];
  } = {},
): Promise<InProcessGateway> {
  const directory = await mkdtemp(join(tmpdir(), 'perdiem-gw-unit-'));
  let nowMs = Date.UTC(2025, 0, 2, 12);
  const clock = {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
  const ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: clock.now });
  const account = await ledger.createAccount();
  await ledger.setDiemAllowance(account.id, epochAt(clock.now()), options.diemNano ?? 10_000_000_000n);
  const key = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'unit' });
  const admin = await ledger.createKey({ accountId: account.id, kind: 'ADMIN', name: 'admin' });
  const app = createGateway({
    ledger,
    registry: fakeRegistry(),
    prices: fakePriceBook,
    clock: clock.now,
    logger: gatewayLogger('silent'),
    operatorToken,
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.walletKeys ? { walletKeys: options.walletKeys } : {}),
    ...(options.compute ? { compute: options.compute } : {}),
    ...(options.pricing ? { pricing: options.pricing } : {}),
  });
  return {
    app,
    ledger,
    accountId: account.id,
    apiKey: key.secret,
    adminKey: admin.secret,
    keyId: key.key.id,
    clock,
    request(path, init = {}) {
      const { json, key: keyOverride, ...rest } = init;
      const headers = new Headers(rest.headers);
      const secret = keyOverride === undefined ? key.secret : keyOverride;
      if (secret !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${secret}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return Promise.resolve(
        app.request(path, {
          method: json !== undefined ? 'POST' : 'GET',
          ...rest,
          headers,
          ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        }),
      );
    },
    async close() {
      await ledger.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
