/** API key management, in Venice's shape. Listing and rate limits take any key; changes need an ADMIN key. */
import { Hono } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError, NotFoundError } from '../../core/errors.ts';
import { nanoUsdToNumber } from '../../core/money.ts';
import type { ApiKey, KeyLimitUsage, KeyRateLimits, UpdateKeyInput } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv, Principal } from '../env.ts';
import { limitsOf, limitView, veniceLimitsView } from '../keys/keyLimits.ts';
import { requireAdminKey } from '../middleware/auth.ts';
import { balanceOf } from '../middleware/balance.ts';
import { formatResetMs } from '../middleware/rateLimit.ts';
import { limitsInForce } from '../rateLimit/limitsInForce.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { createKeySchema, updateKeySchema } from '../validate/schemas.ts';

/** A key in Venice's shape (`last6Chars`, `consumptionLimits`, `limitPeriod`), with perdiem's `limits` and overrides. */
export function keyView(key: ApiKey, usage?: readonly KeyLimitUsage[]) {
  return {
    id: key.id,
    apiKeyType: key.kind,
    description: key.name,
    last6Chars: key.secretLast6,
    prefix: key.secretPrefix,
    createdAt: new Date(key.createdAtMs).toISOString(),
    expiresAt: key.expiresAtMs === null ? null : new Date(key.expiresAtMs).toISOString(),
    revokedAt: key.revokedAtMs === null ? null : new Date(key.revokedAtMs).toISOString(),
    allowedModels: key.allowedModels,
    ...veniceLimitsView(key.limits),
    limits: (usage ?? key.limits).map(limitView),
    rateLimits: key.rateLimits,
  };
}

/**
 * The key's rate-limit overrides a body asks for, on top of `current` (the key's, on an update): an absent body field
 * keeps the current value, null clears it; `rateLimits: null` clears both. undefined: no change asked.
 */
export function rateLimitsOf(
  body: { rateLimits?: { requestsPerMinute?: number | null; tokensPerMinute?: number | null } | null | undefined },
  current: KeyRateLimits | null = null,
): KeyRateLimits | null | undefined {
  if (body.rateLimits === undefined) return undefined;
  if (body.rateLimits === null) return null;
  const { requestsPerMinute, tokensPerMinute } = body.rateLimits;
  const limits = {
    requestsPerMinute: requestsPerMinute === undefined ? (current?.requestsPerMinute ?? null) : requestsPerMinute,
    tokensPerMinute: tokensPerMinute === undefined ? (current?.tokensPerMinute ?? null) : tokensPerMinute,
  };
  return limits.requestsPerMinute === null && limits.tokensPerMinute === null ? null : limits;
}

export function expiresOf(value: string | null | undefined, nowMs: number): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  const ms = Date.parse(value);
  if (ms <= nowMs)
    throw new InvalidRequestError('expiresAt must be in the future', { code: 'invalid_value', param: 'expiresAt' });
  return ms;
}

async function ownKey(deps: GatewayDeps, accountId: string, id: string): Promise<ApiKey> {
  const key = await deps.ledger.getKey(id);
  if (key === null || key.accountId !== accountId) {
    throw new NotFoundError(`no API key ${id}`, { code: 'api_key_not_found', param: 'id' });
  }
  return key;
}

/** The key's and the account's RPM and TPM buckets as they stand at `nowMs`, without taking from them. */
async function rateLimitBuckets(deps: GatewayDeps, principal: Principal, nowMs: number) {
  const { key, accountId } = principal;
  const limits = limitsInForce(deps.rateLimits, key);
  const bucket = async (name: string, perMinute: number) => {
    const state = await deps.rateLimiter.peek(name, { perMinute }, nowMs);
    return { limit: state.limit, remaining: state.remaining, reset: formatResetMs(state.resetMs) };
  };
  return {
    key: {
      RPM: await bucket(`key:${key.id}:rpm`, limits.keyRpm),
      TPM: await bucket(`key:${key.id}:tpm`, limits.keyTpm),
      overridden: key.rateLimits !== null,
    },
    account: {
      RPM: await bucket(`account:${accountId}:rpm`, limits.accountRpm),
      TPM: await bucket(`account:${accountId}:tpm`, limits.accountTpm),
    },
  };
}

/** The ledger update a PATCH body asks for: only the fields it gives. */
function keyPatchOf(body: z.infer<typeof updateKeySchema>, existing: ApiKey, nowMs: number): UpdateKeyInput {
  const patch: UpdateKeyInput = {};
  if (body.description !== undefined) patch.name = body.description;
  const expiresAtMs = expiresOf(body.expiresAt, nowMs);
  if (expiresAtMs !== undefined) patch.expiresAtMs = expiresAtMs;
  if (body.allowedModels !== undefined) patch.allowedModels = body.allowedModels;
  const limits = limitsOf(body);
  if (limits !== undefined) patch.limits = limits;
  const rateLimits = rateLimitsOf(body, existing.rateLimits);
  if (rateLimits !== undefined) patch.rateLimits = rateLimits;
  return patch;
}

export function keyRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const admin = requireAdminKey();

  app.get('/api_keys', async (c) => {
    const keys = (await deps.ledger.listKeys(c.get('principal').accountId)).filter((key) => key.revokedAtMs === null);
    const views = [];
    for (const key of keys) {
      views.push(keyView(key, key.limits.length === 0 ? undefined : await deps.ledger.keyLimitUsage(key.id)));
    }
    return c.json({ object: 'list', data: views });
  });

  app.get('/api_keys/rate_limits', async (c) => {
    const principal = c.get('principal');
    const { key } = principal;
    const now = deps.clock();
    const balance = await balanceOf(deps, c);
    const keyLimits = key.limits.length === 0 ? [] : await deps.ledger.keyLimitUsage(key.id);
    return c.json({
      data: {
        accessPermitted: true,
        apiKeyType: key.kind,
        apiKeyId: key.id,
        balances: {
          DIEM: nanoUsdToNumber(balance.diem.availableNano),
          USD: nanoUsdToNumber(balance.usd.availableNano),
          CREDITS: nanoUsdToNumber(balance.credits.availableNano),
        },
        nextEpochBegins: balance.nextEpochBegins,
        rateLimits: await rateLimitBuckets(deps, principal, now),
        ...veniceLimitsView(key.limits),
        /** Each spend limit, what it covers, and what the key spent, holds and has left in the current period. */
        limits: keyLimits.map(limitView),
      },
    });
  });

  app.post('/api_keys', admin, async (c) => {
    const body = parseWith(createKeySchema, await readJsonBody(c));
    const expiresAtMs = expiresOf(body.expiresAt, deps.clock());
    const limits = limitsOf(body);
    const rateLimits = rateLimitsOf(body);
    const created = await deps.ledger.createKey({
      accountId: c.get('principal').accountId,
      kind: body.apiKeyType,
      name: body.description,
      ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
      ...(body.allowedModels === undefined ? {} : { allowedModels: body.allowedModels }),
      ...(limits === undefined ? {} : { limits }),
      ...(rateLimits === undefined ? {} : { rateLimits }),
    });
    return c.json({ success: true, data: { ...keyView(created.key), apiKey: created.secret } }, 201);
  });

  app.patch('/api_keys', admin, async (c) => {
    const body = parseWith(updateKeySchema, await readJsonBody(c));
    const existing = await ownKey(deps, c.get('principal').accountId, body.id);
    const updated = await deps.ledger.updateKey(body.id, keyPatchOf(body, existing, deps.clock()));
    deps.keys.forget(body.id);
    const usage = updated.limits.length === 0 ? undefined : await deps.ledger.keyLimitUsage(updated.id);
    return c.json({ success: true, data: keyView(updated, usage) });
  });

  app.delete('/api_keys', admin, async (c) => {
    const id = c.req.query('id');
    if (!id) throw new InvalidRequestError('id is required', { code: 'missing_required_parameter', param: 'id' });
    await ownKey(deps, c.get('principal').accountId, id);
    await deps.ledger.revokeKey(id);
    deps.keys.forget(id);
    return c.json({ success: true });
  });
  return app;
}
