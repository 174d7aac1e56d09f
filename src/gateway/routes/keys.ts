/** API key management, in Venice's shape. Listing and rate limits take any key; changes need an ADMIN key. */
import { Hono } from 'hono';
import { InvalidRequestError, NotFoundError } from '../../core/errors.ts';
import { formatUsd, nanoUsdToNumber, parseUsd } from '../../core/money.ts';
import type { ApiKey, KeyLimit, UpdateKeyInput } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { requireAdminKey } from '../middleware/auth.ts';
import { balanceOf } from '../middleware/balance.ts';
import { formatResetMs } from '../middleware/rateLimit.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { type CreateKeyBody, createKeySchema, type UpdateKeyBody, updateKeySchema } from '../validate/schemas.ts';

export function keyView(key: ApiKey) {
  return {
    id: key.id,
    apiKeyType: key.kind,
    description: key.name,
    last6Chars: key.secretPrefix,
    createdAt: new Date(key.createdAtMs).toISOString(),
    expiresAt: key.expiresAtMs === null ? null : new Date(key.expiresAtMs).toISOString(),
    revokedAt: key.revokedAtMs === null ? null : new Date(key.revokedAtMs).toISOString(),
    allowedModels: key.allowedModels,
    limits: key.limits.map((limit) => ({
      currency: limit.currency,
      period: limit.period,
      amount: formatUsd(limit.amountNano),
    })),
  };
}

function amountNano(value: string | number, param: string): bigint {
  const text = typeof value === 'number' ? String(value) : value;
  if (!/^\d+(\.\d{1,9})?$/.test(text)) {
    throw new InvalidRequestError(`${param} must be a non-negative decimal with at most 9 places`, {
      code: 'invalid_value',
      param,
    });
  }
  return parseUsd(text);
}

export function limitsOf(body: CreateKeyBody | UpdateKeyBody): KeyLimit[] | undefined {
  if (body.limits === undefined && body.consumptionLimit === undefined) return undefined;
  const limits: KeyLimit[] = (body.limits ?? []).map((limit, i) => ({
    currency: limit.currency,
    period: limit.period,
    amountNano: amountNano(limit.amount, `limits[${i}].amount`),
  }));
  const epoch = body.consumptionLimit;
  if (epoch?.usd != null) {
    limits.push({ currency: 'USD', period: 'EPOCH', amountNano: amountNano(epoch.usd, 'consumptionLimit.usd') });
  }
  if (epoch?.diem != null) {
    limits.push({ currency: 'DIEM', period: 'EPOCH', amountNano: amountNano(epoch.diem, 'consumptionLimit.diem') });
  }
  return limits;
}

export function expiresOf(value: string | null | undefined, nowMs: number): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  const ms = Date.parse(value);
  if (ms <= nowMs)
    throw new InvalidRequestError('expiresAt must be in the future', { code: 'invalid_value', param: 'expiresAt' });
  return ms;
}

export function keyRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const admin = requireAdminKey();

  async function ownKey(accountId: string, id: string): Promise<ApiKey> {
    const key = await deps.ledger.getKey(id);
    if (key === null || key.accountId !== accountId) {
      throw new NotFoundError(`no API key ${id}`, { code: 'api_key_not_found', param: 'id' });
    }
    return key;
  }

  app.get('/api_keys', async (c) => {
    const keys = await deps.ledger.listKeys(c.get('principal').accountId);
    return c.json({ object: 'list', data: keys.filter((key) => key.revokedAtMs === null).map(keyView) });
  });

  app.get('/api_keys/rate_limits', async (c) => {
    const { key, accountId } = c.get('principal');
    const now = deps.clock();
    const { rateLimits } = deps;
    const bucket = async (name: string, perMinute: number) => {
      const state = await deps.rateLimiter.peek(name, { perMinute }, now);
      return { limit: state.limit, remaining: state.remaining, reset: formatResetMs(state.resetMs) };
    };
    const balance = await balanceOf(deps, c);
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
        rateLimits: {
          key: {
            RPM: await bucket(`key:${key.id}:rpm`, rateLimits.key.requestsPerMinute),
            TPM: await bucket(`key:${key.id}:tpm`, rateLimits.key.tokensPerMinute),
          },
          account: {
            RPM: await bucket(`account:${accountId}:rpm`, rateLimits.account.requestsPerMinute),
            TPM: await bucket(`account:${accountId}:tpm`, rateLimits.account.tokensPerMinute),
          },
        },
        limits: keyView(key).limits,
      },
    });
  });

  app.post('/api_keys', admin, async (c) => {
    const body = parseWith(createKeySchema, await readJsonBody(c));
    const expiresAtMs = expiresOf(body.expiresAt, deps.clock());
    const limits = limitsOf(body);
    const created = await deps.ledger.createKey({
      accountId: c.get('principal').accountId,
      kind: body.apiKeyType,
      name: body.description,
      ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
      ...(body.allowedModels === undefined ? {} : { allowedModels: body.allowedModels }),
      ...(limits === undefined ? {} : { limits }),
    });
    return c.json({ data: { ...keyView(created.key), apiKey: created.secret } }, 201);
  });

  app.patch('/api_keys', admin, async (c) => {
    const body = parseWith(updateKeySchema, await readJsonBody(c));
    await ownKey(c.get('principal').accountId, body.id);
    const patch: UpdateKeyInput = {};
    if (body.description !== undefined) patch.name = body.description;
    const expiresAtMs = expiresOf(body.expiresAt, deps.clock());
    if (expiresAtMs !== undefined) patch.expiresAtMs = expiresAtMs;
    if (body.allowedModels !== undefined) patch.allowedModels = body.allowedModels;
    const limits = limitsOf(body);
    if (limits !== undefined) patch.limits = limits;
    const updated = await deps.ledger.updateKey(body.id, patch);
    deps.keys.forget(body.id);
    return c.json({ data: keyView(updated) });
  });

  app.delete('/api_keys', admin, async (c) => {
    const id = c.req.query('id');
    if (!id) throw new InvalidRequestError('id is required', { code: 'missing_required_parameter', param: 'id' });
    await ownKey(c.get('principal').accountId, id);
    await deps.ledger.revokeKey(id);
    deps.keys.forget(id);
    return c.json({ success: true });
  });
  return app;
}
