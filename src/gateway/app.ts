/**
 * createGateway: the Hono app of the metering gateway, with every dependency injected (no singletons).
 *
 *   requestId → auth → validate → rateLimit → quote → reserve → provider → meter → settle (settle/void in finally)
 */
import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, type Env, Hono } from 'hono';
import pino, { type Logger } from 'pino';
import { type CalibrationTerms, calibrationTermsDefault } from '../core/calibration.ts';
import { type ComputeMeasurements, referenceComputeRate } from '../core/computeUnits.ts';
import type { Clock } from '../core/epoch.ts';
import { epochSecondsDefault } from '../core/epoch.ts';
import type { PriceBook } from '../core/pricing.ts';
import type { Ledger } from '../ledger/types.ts';
import { adminRoutes } from './admin/adminRoutes.ts';
import { type ComputeMeter, createComputeMeter } from './compute/computeMeter.ts';
import { computeMetricsText } from './compute/computeMetrics.ts';
import { type MeasuredCompute, measuredCompute } from './compute/measuredCompute.ts';
import { withComputeTiming } from './compute/timedProvider.ts';
import type { GatewayDeps, GatewayEnv } from './env.ts';
import { accountWalletRoutes } from './identity/accountWalletRoutes.ts';
import { type WalletKeyDeps, walletKeyRoutes } from './identity/walletKeyRoutes.ts';
import { gatewayLimits, type RateLimitConfig } from './limits.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { authMiddleware } from './middleware/auth.ts';
import { errorHandler, notFoundHandler } from './middleware/errors.ts';
import { createKeyCache } from './middleware/keyCache.ts';
import { requestIdMiddleware } from './middleware/requestId.ts';
import type { PriceBookStore } from './priceBookStore.ts';
import { gatedPriceBookStore } from './pricing/gatedPrices.ts';
import type { SheetGate } from './pricing/sheetGate.ts';
import type { ProviderRegistry } from './providers/index.ts';
import { withRoutingSettings } from './providers/registry.ts';
import { createMemoryRateLimiter } from './rateLimit/memoryRateLimiter.ts';
import type { RateLimiter } from './rateLimit/types.ts';
import { receiptRoutes } from './receipts/receiptRoutes.ts';
import { createReceiptSigner, type ReceiptKeyConfig } from './receipts/receiptSigner.ts';
import { billingRoutes } from './routes/billing.ts';
import { inferenceRoutes } from './routes/inference.ts';
import { keyRoutes } from './routes/keys.ts';
import { modelRoutes } from './routes/models.ts';
import { openApiDocument } from './routes/openapi.ts';
import { priceSheetRoutes } from './routes/priceSheets.ts';
import { memoryOperatorSettings, type OperatorSettings } from './settings/operatorSettings.ts';
import { teamsRoutes } from './teams/teamsRoutes.ts';
import type { X402Config } from './x402/config.ts';
import { createX402Gateway } from './x402/x402Gateway.ts';

export interface GatewayOptions {
  ledger: Ledger;
  registry: ProviderRegistry;
  /** The price book, or a store the caller keeps (to reprice through /admin/prices and read it back). */
  prices: PriceBook | PriceBookStore;
  /**
   * Durable operator settings (see `openOperatorSettingsFor`): prices, rate limits, provider and model settings; when
   * given, `prices` and `rateLimits` are not read (its defaults hold them). Default: in memory, from those two.
   */
  settings?: OperatorSettings;
  /**
   * Which price sheets may be in force (`pricing/anchorGate.ts` with a chain): lookups skip the sheets it does not
   * admit. Default: every sheet (`openSheetGate`).
   */
  sheetGate?: SheetGate;
  /** CU price, margin and the step bound of price changes; each one not given is `calibrationTermsDefault`'s. */
  pricing?: Partial<CalibrationTerms>;
  /** Unix ms; default Date.now. Prices, rate limits and epochs read it. */
  clock?: Clock;
  /** Default: pino at `info` on stdout, with authorization headers redacted. */
  logger?: Logger;
  rateLimits?: Partial<RateLimitConfig>;
  /** Default: in-memory token buckets. */
  rateLimiter?: RateLimiter;
  metrics?: GatewayMetrics;
  /**
   * Where this gateway's compute readings go (startGatewayServer passes one it persists in the ledger). Default: a
   * meter in memory.
   */
  computeMeter?: ComputeMeter;
  /** What each model costs in CU; default: read from `computeMeter` at the providers' declared rates. */
  compute?: ComputeMeasurements;
  epochSeconds?: number;
  /** Bearer token for /admin/*; omitted or null disables the operator routes (401). */
  operatorToken?: string | null;
  /** The operator's receipt key and chain: every metered response then carries a signed receipt. */
  receiptKey?: ReceiptKeyConfig;
  /** See GatewayDeps.refreshAllowance: `perdiem up` re-reads the chain allowance here. */
  refreshAllowance?: (accountId: string) => Promise<boolean>;
  /** More dependencies for /healthz (e.g. the chain RPC); a failing one makes `ok` false but the gateway serves on. */
  health?: () => Record<string, { ok: boolean } & Record<string, unknown>>;
  /**
   * Enables the wallet key flow (`/api/v1/api_keys/generate_web3_key`) and linking more wallets to an account
   * (`/api/v1/wallets/link`); omitted, those routes do not exist (`GET /api/v1/wallets` does).
   */
  walletKeys?: Omit<WalletKeyDeps, 'ledger' | 'clock'>;
  /** Enables wallet payments (x402 top-ups, wallet sign-in instead of an API key); omitted, none of it exists. */
  x402?: X402Config;
  /** Serves the web dashboard (a built `web/dist`) at `/`, after every API route. */
  dashboard?: DashboardOptions;
  /** The host the server binds to (startGatewayServer sets it); unknown means not loopback. */
  bindHost?: string;
}

export interface DashboardOptions {
  /** Absolute path of the built dashboard. */
  root: string;
  /** What the page reads from `/dashboard/config.json`: the chain it talks to directly. */
  chain?: {
    chainId: number;
    rpcUrl: string;
    contracts: { vvv: string; stakedVvv: string; diem: string; diemStaking: string };
  };
  /**
   * A development wallet the page may sign with: its private key goes to the page, unauthenticated. Served only on a
   * local chain (`chain.chainId` 31337), by a gateway bound to loopback, to a client on loopback; null otherwise.
   */
  devWallet?: { address: string; privateKey: string };
}

const localChainId = 31337;

/** 127.0.0.0/8, ::1 and localhost, as a bind host or a peer address (IPv4-mapped IPv6 included). */
export function isLoopback(host: string | null | undefined): boolean {
  if (!host) return false;
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  return /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The peer's address under the Node adapter; null when there is no socket (e.g. `app.request` in tests). */
function remoteAddressOf(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/**
 * Mounts the dashboard on `app`, after whatever routes it already has. `bindHost` is where the server listens: the
 * development wallet is handed out only when that is loopback and the request comes from loopback too.
 */
export function mountDashboard<E extends Env>(
  app: Hono<E>,
  dashboard: DashboardOptions,
  bindHost: string | null = null,
): void {
  const wallet = dashboard.chain?.chainId === localChainId && isLoopback(bindHost) ? dashboard.devWallet : undefined;
  const chain = dashboard.chain ?? null;
  app.get('/dashboard/config.json', (c) => {
    const devWallet = wallet && isLoopback(remoteAddressOf(c)) ? wallet : null;
    return c.json({ chain, devWallet }, 200, { 'cache-control': 'no-store' });
  });
  app.use('*', serveStatic({ root: dashboard.root }));
  // SPA fallback: any other page a browser asks for gets the app, which routes on the client.
  app.get('*', async (c, next) => {
    if (!(c.req.header('accept') ?? '').includes('text/html')) return next();
    return serveStatic({ root: dashboard.root, path: 'index.html' })(c, next);
  });
}

function isStore(prices: PriceBook | PriceBookStore): prices is PriceBookStore {
  return typeof (prices as PriceBookStore).priceAt === 'function';
}

const logRedactions = ['req.headers.authorization', 'authorization', 'apiKey', 'secret'];

/**
 * The default logger: one access line per request, written to `destination` (default stdout) asynchronously and in
 * batches of about 4 KiB, with a flush at least every `flushIntervalMs` (and on exit) so that a quiet gateway's lines
 * still show: a write system call per ~14 requests rather than one per request (and none on the request path).
 */
export function gatewayLogger(
  level: pino.Level | 'silent' = 'info',
  destination: string | number = 1,
  flushIntervalMs = 250,
): Logger {
  if (level === 'silent') return pino({ level, redact: logRedactions });
  // Buffer mode: each line is encoded once as it comes. In text mode the destination measured the UTF-8 length of all
  // the text it held for every line it took, which cost about 1.2 µs a line (2.6 µs a line in all, against 3.8).
  // pino.destination still owns the stream, so it is still flushed on exit.
  const stream = pino.destination({ dest: destination, sync: false, minLength: 4096, contentMode: 'buffer' });
  const timer = setInterval(() => {
    try {
      stream.flush();
    } catch {
      clearInterval(timer); // destroyed: the logger was closed
    }
  }, flushIntervalMs).unref();
  const lines = {
    // The stream's types declare text only; in buffer mode it takes Buffers.
    write: (line: string) => stream.write(Buffer.from(line, 'utf8') as unknown as string),
    flush: (done?: (error?: Error) => void) => stream.flush(done),
    flushSync: () => stream.flushSync(),
  };
  return pino({ level, redact: logRedactions }, lines);
}

/** The meter's readings at each provider's declared rate, with the predecessors the operator named. */
function measuredComputeOf(
  meter: ComputeMeter,
  registry: ProviderRegistry,
  settings: OperatorSettings,
): MeasuredCompute {
  const rates = new Map(registry.providers.map((provider) => [provider.id, provider.computeRate]));
  return measuredCompute(meter.table, {
    rateOf: (provider) => rates.get(provider) ?? referenceComputeRate,
    predecessorOf: (model) => settings.models()[model]?.predecessor ?? null,
    modelsWithPredecessor: () =>
      Object.entries(settings.models())
        .filter(([, setting]) => setting.predecessor !== undefined)
        .map(([model]) => model),
  });
}

/**
 * The dependencies a gateway with `options` runs on. Without `settings`, a price book given as a book is held by
 * in-memory settings (so its changes show in the settings history); a store given is used as it is.
 */
export function gatewayDeps(options: GatewayOptions): GatewayDeps {
  const clock = options.clock ?? Date.now;
  const given = options.prices;
  const settings =
    options.settings ??
    memoryOperatorSettings({
      prices: isStore(given) ? given.current() : given,
      rateLimits: options.rateLimits,
      clock,
    });
  const allPrices = options.settings?.prices ?? (isStore(given) ? given : settings.prices);
  const prices = options.sheetGate ? gatedPriceBookStore(allPrices, options.sheetGate, clock) : allPrices;
  const meter = options.computeMeter ?? createComputeMeter(clock);
  const measurements = measuredComputeOf(meter, options.registry, settings);
  return {
    ledger: options.ledger,
    keys: createKeyCache(options.ledger, {
      ttlMs: gatewayLimits.authenticatedKeyTtlMs,
      entriesMax: gatewayLimits.authenticatedKeysMax,
    }),
    registry: withRoutingSettings(
      withComputeTiming(options.registry, meter, () => performance.now()),
      settings,
    ),
    prices,
    pricing: { ...calibrationTermsDefault, ...options.pricing },
    clock,
    logger: options.logger ?? gatewayLogger(),
    rateLimiter: options.rateLimiter ?? createMemoryRateLimiter(),
    // Read at each use: the operator may change them (PUT /admin/rate-limits, or another replica).
    get rateLimits() {
      return settings.rateLimits();
    },
    settings,
    metrics: options.metrics ?? createGatewayMetrics(),
    compute: options.compute ?? measurements,
    measurements,
    epochSeconds: options.epochSeconds ?? epochSecondsDefault,
    operatorToken: options.operatorToken ?? null,
    ...(options.refreshAllowance ? { refreshAllowance: options.refreshAllowance } : {}),
    ...(options.receiptKey ? { receipts: createReceiptSigner(options.receiptKey) } : {}),
  };
}

/** The app; `deps` default to `gatewayDeps(options)` (the server passes them, to run timers on the same ones). */
export function createGateway(options: GatewayOptions, deps: GatewayDeps = gatewayDeps(options)): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.onError(errorHandler(deps));
  app.notFound(notFoundHandler);
  app.use('*', requestIdMiddleware(deps));

  app.get('/healthz', async (c) => {
    const providers = await deps.registry.healthCheck();
    const dependencies = options.health?.() ?? {};
    const ok = Object.values(dependencies).every((dependency) => dependency.ok);
    return c.json({ ok, providers, ...dependencies });
  });
  app.get('/metrics', (c) =>
    c.body(deps.metrics.render() + computeMetricsText(deps.measurements.views()), 200, {
      'content-type': 'text/plain; version=0.0.4',
    }),
  );
  const openApi = openApiDocument();
  app.get('/openapi.json', (c) => c.json(openApi));

  const x402 = options.x402 ? createX402Gateway(deps, options.x402) : null;
  const auth = x402 ? x402.auth(authMiddleware(deps)) : authMiddleware(deps);
  const api = new Hono<GatewayEnv>();
  api.use('*', auth);
  api.route('/', inferenceRoutes(deps));
  api.route('/', modelRoutes(deps));
  const account = new Hono<GatewayEnv>();
  account.use('*', auth);
  account.route('/', billingRoutes(deps));
  account.route('/', receiptRoutes(deps));
  account.route('/', keyRoutes(deps));
  account.route('/', accountWalletRoutes(deps, options.walletKeys ?? null));
  account.route('/', teamsRoutes(deps));

  // Before the authenticated sub-apps: the wallet key flow is how a wallet without a key gets one.
  if (x402) app.route('/api/v1', x402.routes);
  // Public, before the authenticated sub-apps: the URI anchored on chain for each sheet, the gate's refusals included.
  const allPrices = options.settings?.prices ?? (isStore(options.prices) ? options.prices : deps.settings.prices);
  app.route('/v1', priceSheetRoutes(allPrices));
  app.route('/api/v1', priceSheetRoutes(allPrices));
  if (options.walletKeys) {
    app.route('/api/v1', walletKeyRoutes({ ...options.walletKeys, ledger: deps.ledger, clock: deps.clock }));
  }
  app.route('/v1', api);
  app.route('/api/v1', api);
  app.route('/api/v1', account);
  app.route('/admin', adminRoutes(deps));
  if (options.dashboard) mountDashboard(app, options.dashboard, options.bindHost ?? null);
  return app;
}
