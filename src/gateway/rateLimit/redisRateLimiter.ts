/**
 * Token buckets in Redis, shared by every gateway replica. Each operation is one Lua script (EVALSHA, falling back to
 * EVAL on NOSCRIPT), so refill and take/adjust/peek happen atomically in one round trip. Time is the caller's clock
 * (passed in, as with the memory limiter), never Redis TIME.
 *
 * Fixed point: a bucket holds tokens × 60,000 (one minute in ms). A refill of `elapsedMs × perMinute` units is then an
 * exact integer, and every figure below stays an integer well under 2^53, so Lua's doubles never round.
 *
 * Invariants:
 * - A missing key is a full bucket; a key expires only after it would have refilled to full (plus slack), so expiry
 *   is never observable.
 * - A bucket's clock never runs backwards: `updatedMs` is the latest time any replica has shown it. Replica clocks
 *   that disagree therefore cannot refill the same interval twice. (The memory limiter takes every time as given;
 *   the two agree on any sequence with non-decreasing times.)
 *
 * Not for Redis Cluster as it stands: one take touches key and account buckets, which hash to different slots.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { minuteMs } from '../../core/epoch.ts';
import { UnavailableError } from '../../core/errors.ts';
import type { BucketSpec, BucketState, BucketTake, RateDecision, RateLimiter } from './types.ts';

/** Fixed-point units per token: one minute in ms, so a bucket refills `perMinute` units per ms. */
export const unitsPerToken = minuteMs;

export const redisRateLimitLimits = {
  /** Keeps `perMinute × unitsPerToken` (and deficits, and amounts scaled alike) far below 2^53. */
  perMinuteMax: 1_000_000_000,
  /** Extra life for an idle key past the moment it would be full again; covers skew between clocks and Redis. */
  idleTtlSlackMs: minuteMs,
  /** A command Redis does not answer in this long fails the request (503) rather than hanging it. */
  commandTimeoutMs: 2_000,
  connectTimeoutMs: 2_000,
} as const;

/**
 * Shared by the three scripts: load a bucket, refill it to `now`, store it with a TTL. A bucket is one string,
 * "<units>:<updatedMs>", so a store is one SET … PX.
 */
const luaBucket = `
local unitsPerToken = ${unitsPerToken}
local function load(key, perMinute, now)
  local v = redis.call('GET', key)
  local cap = perMinute * unitsPerToken
  if not v then return { t = cap, u = now } end
  local t, u = string.match(v, '^(-?%d+):(%d+)$')
  local b = { t = tonumber(t), u = tonumber(u) }
  if now > b.u then
    b.t = b.t + (now - b.u) * perMinute
    b.u = now
  end
  if b.t > cap then b.t = cap end
  return b
end
local function store(key, b, perMinute, slackMs)
  local deficit = perMinute * unitsPerToken - b.t
  local ttlMs = slackMs
  if deficit > 0 then ttlMs = ttlMs + math.ceil(deficit / perMinute) end
  redis.call('SET', key, string.format('%d:%d', b.t, b.u), 'PX', string.format('%d', ttlMs))
end
`;

/**
 * KEYS: one bucket per take. ARGV: nowMs, slackMs, then perMinute and amount per take.
 * Returns {allowed, units of each take's bucket afterwards}. A bucket named twice is one bucket (as in memory).
 */
const luaTake = `${luaBucket}
local now, slackMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local buckets, rates, amounts, found = {}, {}, {}, {}
for i = 1, #KEYS do
  rates[i], amounts[i] = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local b = buckets[KEYS[i]]
  if b == nil then
    b = load(KEYS[i], rates[i], now)
    buckets[KEYS[i]] = b
  elseif b.t > rates[i] * unitsPerToken then
    b.t = rates[i] * unitsPerToken
  end
  found[i] = b
end
local allowed = 1
for i = 1, #KEYS do
  if found[i].t < math.min(amounts[i], rates[i]) * unitsPerToken then allowed = 0 end
end
if allowed == 1 then
  for i = 1, #KEYS do found[i].t = found[i].t - amounts[i] * unitsPerToken end
end
local out = { allowed }
for i = 1, #KEYS do
  store(KEYS[i], found[i], rates[i], slackMs)
  out[i + 1] = found[i].t
end
return out
`;

/** KEYS: the bucket. ARGV: nowMs, slackMs, perMinute, delta (tokens taken; negative refunds). */
const luaAdjust = `${luaBucket}
local now, slackMs, rate, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local b = load(KEYS[1], rate, now)
b.t = b.t - delta * unitsPerToken
store(KEYS[1], b, rate, slackMs)
return 0
`;

/** KEYS: the bucket. ARGV: nowMs, slackMs, perMinute. Stores the refill too, as the memory limiter does. */
const luaPeek = `${luaBucket}
local now, slackMs, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = load(KEYS[1], rate, now)
store(KEYS[1], b, rate, slackMs)
return b.t
`;

/** The public state of a bucket holding `units`; `neededTokens` is 0 after a successful take. */
export function bucketState(bucket: string, spec: BucketSpec, units: number, neededTokens: number): BucketState {
  const capUnits = spec.perMinute * unitsPerToken;
  const missingUnits = Math.max(0, neededTokens * unitsPerToken - units);
  // Units refill at perMinute per ms; integer operands below 2^52 make these ceilings exact.
  return {
    bucket,
    limit: spec.perMinute,
    remaining: Math.max(0, Math.floor(units / unitsPerToken)),
    resetMs: Math.ceil((capUnits - units) / spec.perMinute),
    retryAfterMs: Math.ceil(missingUnits / spec.perMinute),
  };
}

function assertSpec(spec: BucketSpec): void {
  const { perMinute } = spec;
  if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > redisRateLimitLimits.perMinuteMax) {
    throw new RangeError(`rate limit perMinute must be an integer in 1..${redisRateLimitLimits.perMinuteMax}`);
  }
}

function assertTokens(amount: number, what: string): void {
  if (!Number.isInteger(amount) || !Number.isSafeInteger(amount * unitsPerToken)) {
    throw new RangeError(`${what} must be an integer of tokens, got ${amount}`);
  }
}

function assertTime(nowMs: number): void {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new RangeError(`nowMs must be a non-negative integer`);
}

export interface RedisRateLimiterOptions {
  /** redis://[user:password@]host:port[/db]; ignored when `redis` is given. */
  url?: string;
  /** An open client to share; the limiter leaves it open on close(). */
  redis?: Redis;
  /** Prefixes every bucket key, so deployments (and test runs) sharing a Redis never meet. */
  keyPrefix: string;
  idleTtlSlackMs?: number;
  commandTimeoutMs?: number;
}

export interface RedisRateLimiter extends RateLimiter {
  /** Ends the connection when the limiter opened it. */
  close(): Promise<void>;
  /** Redis round trips so far (a NOSCRIPT retry counts two); for tests and benchmarks. */
  roundTrips(): number;
}

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const scripts = { take: script(luaTake), adjust: script(luaAdjust), peek: script(luaPeek) };

export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  const owned = options.redis === undefined;
  const redis =
    options.redis ??
    new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      commandTimeout: options.commandTimeoutMs ?? redisRateLimitLimits.commandTimeoutMs,
      connectTimeout: redisRateLimitLimits.connectTimeoutMs,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
    } satisfies RedisOptions);
  // An unhandled 'error' event would crash the process; failures surface on the commands instead.
  if (owned) redis.on('error', () => {});
  const slackMs = options.idleTtlSlackMs ?? redisRateLimitLimits.idleTtlSlackMs;
  const key = (bucket: string) => `${options.keyPrefix}${bucket}`;
  let trips = 0;

  const run = async (s: Script, keys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      trips += 1;
      return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw unavailable(error);
    }
    try {
      trips += 1;
      return await redis.eval(s.source, keys.length, ...keys, ...args);
    } catch (error) {
      throw unavailable(error);
    }
  };

  return {
    async take(takes: readonly BucketTake[], nowMs: number): Promise<RateDecision> {
      assertTime(nowMs);
      const args: (string | number)[] = [nowMs, slackMs];
      for (const take of takes) {
        assertSpec(take.spec);
        assertTokens(take.amount, 'a take amount');
        args.push(take.spec.perMinute, take.amount);
      }
      const [allowed, ...units] = (await run(
        scripts.take,
        takes.map((take) => key(take.bucket)),
        args,
      )) as number[];
      const states = takes.map((take, i) =>
        bucketState(take.bucket, take.spec, units[i]!, allowed === 1 ? 0 : Math.min(take.amount, take.spec.perMinute)),
      );
      return { allowed: allowed === 1, states };
    },
    async adjust(bucket, spec, delta, nowMs) {
      assertTime(nowMs);
      assertSpec(spec);
      assertTokens(delta, 'an adjustment');
      await run(scripts.adjust, [key(bucket)], [nowMs, slackMs, spec.perMinute, delta]);
    },
    async peek(bucket, spec, nowMs) {
      assertTime(nowMs);
      assertSpec(spec);
      const units = (await run(scripts.peek, [key(bucket)], [nowMs, slackMs, spec.perMinute])) as number;
      return bucketState(bucket, spec, units, 0);
    },
    async close() {
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
    roundTrips: () => trips,
  };
}

function unavailable(cause: unknown): UnavailableError {
  return new UnavailableError('rate limits are unavailable right now; retry later', {
    code: 'rate_limiter_unavailable',
    cause,
  });
}
