/** What every gateway handler can reach: the injected dependencies and the per-request variables. */
import type { Logger } from 'pino';
import type { CalibrationTerms } from '../core/calibration.ts';
import type { ComputeMeasurements } from '../core/computeUnits.ts';
import type { Clock } from '../core/epoch.ts';
import type { ApiKey, Balance, Ledger } from '../ledger/types.ts';
import type { MeasuredCompute } from './compute/measuredCompute.ts';
import type { RateLimitConfig } from './limits.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { KeyCache } from './middleware/keyCache.ts';
import type { PriceBookStore } from './priceBookStore.ts';
import type { Provider, ProviderRegistry } from './providers/index.ts';
import type { BucketTake, RateLimiter } from './rateLimit/types.ts';
import type { ReceiptSigner } from './receipts/receiptSigner.ts';
import type { OperatorSettings } from './settings/operatorSettings.ts';

export interface GatewayDeps {
  ledger: Ledger;
  /** API keys this gateway authenticated lately; routes that change a key forget it here. */
  keys: KeyCache;
  registry: ProviderRegistry;
  prices: PriceBookStore;
  /** The CU price and margin calibration prices at, and the step bound every price change is held to. */
  pricing: CalibrationTerms;
  clock: Clock;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** The operator's current rate limits (from `settings`). */
  rateLimits: RateLimitConfig;
  /** Prices, rate limits, provider and model settings, durable when the gateway was given a store. */
  settings: OperatorSettings;
  metrics: GatewayMetrics;
  /**
   * What each model costs to run, in CU, measured from this gateway's traffic (gateway/compute/): /v1/models shows
   * it, calibration prices from it.
   */
  compute: ComputeMeasurements;
  /** The same measurements, row by row, as the operator sees them (GET /admin/measurements, /metrics). */
  measurements: MeasuredCompute;
  epochSeconds: number;
  /** Bearer token for /admin/*; null disables the operator routes. */
  operatorToken: string | null;
  /**
   * Re-reads the account's allowance from the chain (once, before a request is refused for lack of funds).
   * Resolves true when it may have changed, so the reservation is worth trying again.
   */
  refreshAllowance?: (accountId: string) => Promise<boolean>;
  /** Signs each charge's receipt (header, final SSE chunk, /api/v1/receipts); absent, responses carry none. */
  receipts?: ReceiptSigner;
}

/** Who is calling: an API key of an account. */
export interface Principal {
  key: ApiKey;
  accountId: string;
}

/** Fields the access log line carries; handlers fill them in as they learn them. */
export interface RequestLog {
  keyId?: string;
  model?: string;
  costNano?: string;
  /** What the operator lost on a request voided with operator loss (nano-USD, decimal). */
  lossNano?: string;
  source?: string;
  stream?: boolean;
  promptTokens?: number;
  completionTokens?: number;
  outcome?: string;
}

/** What validate learned about an inference request, whatever its kind: for rateLimit, quote and the handler. */
export interface Admission {
  model: string;
  /** In priority order; the next is tried only when one fails before its first byte. */
  providers: readonly Provider[];
  contextLength: number | null;
  promptTokensMax: number;
  requestedMaxTokens: number | null;
  stream: boolean;
}

export interface GatewayEnv {
  Variables: {
    requestId: string;
    startedAt: number;
    principal: Principal;
    /** The account's balance before this request, once read (see middleware/balance.ts). */
    balance: Balance | undefined;
    admission: Admission;
    log: RequestLog;
    /**
     * Headers every answer carries (x-request-id, x-balance-*, x-ratelimit-*), gathered as a plain record: the hot
     * path writes them with its body in one `writeHead`; any other answer gets them from the requestId middleware.
     */
    headers: Record<string, string>;
    /** Set when the answer was built with `headers` already in it. */
    headersApplied: boolean;
    /** Set by the rateLimit middleware: what it took on admission; the TPM takes are corrected after the request. */
    rateTakes: readonly BucketTake[];
  };
}
