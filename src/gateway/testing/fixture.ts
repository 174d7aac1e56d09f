/**
 * A gateway for tests: a SQLite ledger file in a temp dir (or any ledger), the demo GGUF through the llama provider (and/or any
 * other provider configs), a price book, and a funded account with an INFERENCE key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../core/epoch.ts';
import { epochAt } from '../../core/epoch.ts';
import type { NanoUsd } from '../../core/money.ts';
import type { PriceBook } from '../../core/pricing.ts';
import { openSqliteLedger } from '../../ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../ledger/types.ts';
import { gatewayLogger } from '../app.ts';
import type { RateLimitConfig } from '../limits.ts';
import { createPriceBookStore, type PriceBookStore } from '../priceBookStore.ts';
import {
  createProviderRegistry,
  loadLlamaRuntime,
  type ProviderConfig,
  type ProviderRegistry,
  writeDemoModel,
} from '../providers/index.ts';
import type { Llama } from '../providers/llama/runtime.ts';
import type { ReceiptKeyConfig } from '../receipts/receiptSigner.ts';
import { type GatewayServer, startGatewayServer } from '../server.ts';

export const demoModel = 'perdiem-demo';
export const operatorToken = 'operator-test-token';

/** $2 per 1M input tokens, $8 per 1M output: 2,000 and 8,000 nano-USD per token. */
export const demoPriceBook: PriceBook = {
  versions: [
    {
      effectiveFromMs: 0,
      models: {
        [demoModel]: { kind: 'text', inputPer1M: 2_000_000_000n, outputPer1M: 8_000_000_000n },
        'upstream-demo': { kind: 'text', inputPer1M: 2_000_000_000n, outputPer1M: 8_000_000_000n },
      },
    },
  ],
};

let sharedLlama: Promise<Llama> | null = null;
/** One runtime per test process. */
export function testLlama(): Promise<Llama> {
  sharedLlama ??= loadLlamaRuntime();
  return sharedLlama;
}

export async function writeTestModel(directory: string): Promise<string> {
  const path = join(directory, 'demo.gguf');
  await writeDemoModel(path);
  return path;
}

export function llamaConfig(modelPath: string, id = 'local'): ProviderConfig {
  return { kind: 'llama', id, models: [{ id: demoModel, path: modelPath, contextSize: 512 }], threads: 1 };
}

export interface Funding {
  diemNano?: NanoUsd;
  creditsNano?: NanoUsd;
  usdNano?: NanoUsd;
}

export interface TestGateway {
  directory: string;
  ledger: Ledger;
  registry: ProviderRegistry;
  prices: PriceBookStore;
  server: GatewayServer;
  /** `${server.url}/v1` */
  baseURL: string;
  accountId: string;
  apiKey: string;
  keyId: string;
  adminKey: string;
  fund(accountId: string, funding: Funding): Promise<void>;
  newAccount(funding: Funding): Promise<{ accountId: string; apiKey: string; keyId: string }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  providers: (directory: string) => Promise<ProviderConfig[]>;
  funding?: Funding;
  rateLimits?: Partial<RateLimitConfig>;
  clock?: Clock;
  /** More model ids priced like the demo model. */
  pricedModels?: string[];
  /** Signs a receipt for every charge. */
  receiptKey?: ReceiptKeyConfig;
  /** The price book to start with; the demo's by default. */
  priceBook?: PriceBook;
  /** The ledger to run on; by default a SQLite file in the gateway's temp dir. It is closed with the gateway. */
  ledger?: (directory: string, clock: Clock) => Promise<Ledger>;
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const directory = await mkdtemp(join(tmpdir(), 'perdiem-gateway-'));
  const clock = options.clock ?? Date.now;
  const ledger = options.ledger
    ? await options.ledger(directory, clock)
    : openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock });
  const registry = createProviderRegistry(await options.providers(directory), { now: clock, llama: testLlama });
  const prices = createPriceBookStore(options.priceBook ?? demoPriceBook);
  if (options.pricedModels) {
    const base = demoPriceBook.versions[0]!.models[demoModel]!;
    prices.add({
      effectiveFromMs: 1,
      models: {
        ...demoPriceBook.versions[0]!.models,
        ...Object.fromEntries(options.pricedModels.map((id) => [id, base])),
      },
    });
  }
  const server = await startGatewayServer({
    ledger,
    registry,
    prices,
    clock,
    logger: gatewayLogger(process.env.PERDIEM_TEST_LOG ? 'info' : 'silent'),
    operatorToken,
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.receiptKey ? { receiptKey: options.receiptKey } : {}),
  });
  let references = 0;
  const fund = async (accountId: string, funding: Funding) => {
    if (funding.diemNano) await ledger.setDiemAllowance(accountId, epochAt(clock()), funding.diemNano);
    for (const [source, amountNano] of [
      ['CREDITS', funding.creditsNano],
      ['USD', funding.usdNano],
    ] as const) {
      if (amountNano) await ledger.addFunds({ accountId, source, amountNano, reference: `test-${++references}` });
    }
  };
  const newAccount = async (funding: Funding) => {
    const account = await ledger.createAccount();
    await fund(account.id, funding);
    const { key, secret } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'test' });
    return { accountId: account.id, apiKey: secret, keyId: key.id };
  };
  const main = await newAccount(options.funding ?? { diemNano: 1_000_000_000n });
  const admin = await ledger.createKey({ accountId: main.accountId, kind: 'ADMIN', name: 'admin' });
  return {
    directory,
    ledger,
    registry,
    prices,
    server,
    baseURL: `${server.url}/v1`,
    ...main,
    adminKey: admin.secret,
    fund,
    newAccount,
    async close() {
      await server.close();
      await registry.close();
      await ledger.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
