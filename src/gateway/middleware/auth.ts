/**
 * Authentication: a Bearer API key, resolved through the gateway's key cache (see keyCache.ts for why that is safe)
 * from the ledger, which stores only hashes. The x-balance-* headers of every authenticated answer, errors included,
 * are set after the handler unless the handler set them (a metered request sets them from its reservation).
 */
import type { MiddlewareHandler } from 'hono';
import { AuthenticationError, PermissionError } from '../../core/errors.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { balanceOf, hasBalanceHeaders } from './balance.ts';

const bearer = /^Bearer\s+(\S+)\s*$/i;

export function authMiddleware(deps: GatewayDeps): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined) {
      throw new AuthenticationError('missing API key: send "Authorization: Bearer <key>"', {
        code: 'missing_api_key',
      });
    }
    const secret = bearer.exec(header)?.[1];
    if (secret === undefined) {
      throw new AuthenticationError('malformed Authorization header: expected "Bearer <key>"', {
        code: 'invalid_api_key',
      });
    }
    const key = await deps.keys.authenticate(secret, deps.clock());
    c.set('principal', { key, accountId: key.accountId });
    c.get('log').keyId = key.id;
    await next();
    if (!hasBalanceHeaders(c)) await balanceOf(deps, c);
  };
}

/** Key management needs an ADMIN key, as on Venice. */
export function requireAdminKey(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (c.get('principal').key.kind !== 'ADMIN') {
      throw new PermissionError('this route needs an ADMIN API key', { code: 'admin_key_required' });
    }
    await next();
  };
}

/** The operator's routes (/admin/*) take a separate bearer token from the gateway's configuration. */
export function operatorAuth(deps: GatewayDeps): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const secret = bearer.exec(c.req.header('authorization') ?? '')?.[1];
    if (deps.operatorToken === null || secret === undefined || !timingSafeEqualText(secret, deps.operatorToken)) {
      throw new AuthenticationError('operator routes need the operator token', { code: 'invalid_operator_token' });
    }
    await next();
  };
}

function timingSafeEqualText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  let diff = left.length ^ right.length;
  for (let i = 0; i < right.length; i++) diff |= (left[i] ?? 0) ^ right[i]!;
  return diff === 0;
}
