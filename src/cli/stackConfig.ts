/**
 * What `perdiem up` runs, from (lowest to highest precedence) defaults, a JSON config file, `PERDIEM_*`
 * environment variables and command-line flags. Every key has the same name in each place: `chainPort` in the
 * file, `PERDIEM_CHAIN_PORT` in the environment, `--chain-port` on the command line.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from './command.ts';

const port = z.coerce.number().int().min(0).max(65_535);
const hexKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed 32-byte hex key');
const list = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : value,
  z.array(z.string().min(1)),
);

/** "true"/"false" from a flag or a variable, a JSON boolean from the file. */
const bool = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ error: 'true or false' }),
);
const perMinute = z.coerce.number({ error: 'a positive integer' }).int().positive();

export const stackConfigSchema = z.strictObject({
  /** Where state lives. */
  home: z.string().min(1).default('.perdiem'),
  /** Gateway port; 0 = any free port. */
  port: port.default(8787),
  /** Gateway bind address. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port of the local anvil chain (ignored with `rpc`). */
  chainPort: port.default(8545),
  /** An external chain's JSON-RPC URL instead of the local anvil. */
  rpc: z.url().optional(),
  /** JSON file with the deployed addresses ({vvv, stakedVvv, diem, diemStaking}, or a state.json); needs `rpc`. */
  contracts: z.string().min(1).optional(),
  /** With `contracts`: the block the event follower starts from (default: the current head). */
  followFromBlock: z.coerce.number().int().min(0).optional(),
  /** Deploys the contracts on `rpc` when `contracts` is not given. */
  operatorKey: hexKey.optional(),
  /**
   * The key that signs each charge's receipt (EIP-712). Default: a key `up` creates once and keeps in `home`
   * (`receipt-key`), so receipts verify against the same signer across restarts.
   */
  receiptKey: hexKey.optional(),
  /** Blocks a stake must be buried under before it counts. */
  confirmations: z.coerce.number().int().min(0).max(1_000).default(0),
  /** PostgreSQL ledger instead of SQLite in `home`. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  /** The PostgreSQL schema for the ledger and the chain history (one database can hold several deployments). */
  databaseSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier')
    .default('perdiem'),
  /**
   * Serve the local chain's development wallet (its private key) to the dashboard. Refused with a host other than
   * loopback, where anyone on the network could read the key.
   */
  devWallet: bool.default(true),
  /** Rate-limit defaults, per minute, for every key and every account (per-key overrides go through the API). */
  rateLimitKeyRpm: perMinute.optional(),
  rateLimitKeyTpm: perMinute.optional(),
  rateLimitAccountRpm: perMinute.optional(),
  rateLimitAccountTpm: perMinute.optional(),
  /** How often budget alerts are raised and their webhooks delivered, in ms (default 2,000). */
  alertIntervalMs: z.coerce.number({ error: 'an integer of ms' }).int().min(100).max(3_600_000).optional(),
  /** Attempts per webhook delivery before it is given up (default 20, about 2.5 hours with the back-off). */
  webhookAttemptsMax: z.coerce.number({ error: 'a positive integer' }).int().min(1).max(100).optional(),
  /** Deliver webhooks to loopback and private addresses (default: only when `host` is loopback). */
  webhookPrivateDestinations: bool.optional(),
  /**
   * A price sheet not anchored in the PriceRegistry for its epoch: `refuse` (the sheet before it stays in force) or
   * `warn` (in force anyway, with a warning log and metric).
   */
  unanchoredPrices: z.enum(['refuse', 'warn']).default('refuse'),
  /** What one compute unit (a reference-accelerator second) is priced at, in USD, when calibrating (default 0.001). */
  cuPriceUsd: z
    .string()
    .regex(/^\d+(\.\d{1,9})?$/, 'a decimal USD amount')
    .optional(),
  /** Calibration's markup over compute cost, basis points (default 2000: 20%). */
  priceMarginBps: z.coerce.number({ error: 'an integer of basis points' }).int().min(0).max(1_000_000).optional(),
  /** The most a priced model's rate moves per epoch, basis points (default 2000: 20%); more needs an override. */
  priceStepBpsMax: z.coerce.number({ error: 'an integer of basis points' }).int().min(0).max(1_000_000).optional(),
  /** Announce the calibrated price sheet for the next epoch, once per epoch (default false). */
  autoCalibrate: bool.default(false),
  /** Redis for rate limits (shared by replicas) instead of memory. */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .optional(),
  /** A GGUF file to serve in process. */
  model: z.string().min(1).optional(),
  /** OpenAI-compatible upstream base URLs (…/v1), tried in order; replaces the in-process model. */
  upstream: list.optional(),
  upstreamApiKey: z.string().min(1).optional(),
  /** Model ids to serve from the upstreams; default: whatever the first reachable upstream lists. */
  upstreamModels: list.optional(),
  /** Model ids the upstreams generate images with (`images/generations`), priced per image. */
  upstreamImageModels: list.optional(),
  /** Model ids the upstreams speak text with (`audio/speech`), priced per 1M characters. */
  upstreamSpeechModels: list.optional(),
  /**
   * The served provider's hardware against the reference accelerator: compute units per engine-second (default 1,
   * the reference itself), and what an hour of it costs in USD. Measured engine-seconds become CU at this rate.
   */
  computeCuPerSecond: z.coerce.number({ error: 'a number > 0' }).positive().max(1_000_000).optional(),
  computeCostPerHourUsd: z
    .string()
    .regex(/^\d+(\.\d{1,9})?$/, 'a decimal USD amount')
    .optional(),
  /** `diem`: allowance from staked DIEM. `legacy`: a daily USD capacity split pro rata by sVVV stake. */
  allocation: z.enum(['diem', 'legacy']).default('diem'),
  /** The daily capacity in USD for `legacy` allocation. */
  legacyDailyCapacityUsd: z
    .string()
    .regex(/^\d+(\.\d{1,9})?$/, 'a decimal USD amount')
    .optional(),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;

const keys = Object.keys(stackConfigSchema.shape) as (keyof StackConfig)[];

const envName = (key: string) => `PERDIEM_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
export const flagName = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The command-line options `perdiem up` accepts, one per key, plus --config. */
export const stackConfigOptions = Object.fromEntries([
  ['config', { type: 'string' as const }],
  ...keys.map((key) => [flagName(key), { type: 'string' as const }]),
]);

function readConfigFile(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
}

/** `--config FILE`, else `PERDIEM_CONFIG`, else `perdiem.config.json` in the working directory if it exists. */
export function resolveStackConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, cwd: string): StackConfig {
  const explicit = (flags.config as string | undefined) ?? env.PERDIEM_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, 'perdiem.config.json');
  const fromFile = explicit || existsSync(file) ? readConfigFile(file) : {};
  const merged: Record<string, unknown> = { ...fromFile };
  for (const key of keys) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') merged[key] = fromEnv;
    const fromFlag = flags[flagName(key)];
    if (fromFlag !== undefined) merged[key] = fromFlag;
  }
  const parsed = stackConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const where = key ? `${key} (--${flagName(key)}, ${envName(key)})` : 'config';
    throw new UsageError(`bad ${where}: ${issue.message}`);
  }
  const config = parsed.data;
  if (config.contracts && !config.rpc) throw new UsageError('--contracts needs --rpc');
  if (config.allocation === 'legacy' && !config.legacyDailyCapacityUsd) {
    throw new UsageError('--allocation legacy needs --legacy-daily-capacity-usd');
  }
  if (config.model && config.upstream) throw new UsageError('give either --model or --upstream, not both');
  if (config.upstreamImageModels && !config.upstream) throw new UsageError('--upstream-image-models needs --upstream');
  if (config.upstreamSpeechModels && !config.upstream) {
    throw new UsageError('--upstream-speech-models needs --upstream');
  }
  // The development wallet exists on the local chain only.
  if (config.devWallet && !config.rpc && !isLoopback(config.host)) {
    throw new UsageError(
      `--host ${config.host} would serve the development wallet's private key to the network: bind 127.0.0.1, or pass --dev-wallet false`,
    );
  }
  return { ...config, home: path.resolve(cwd, config.home) };
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}
