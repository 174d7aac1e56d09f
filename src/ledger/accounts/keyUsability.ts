/**
 * Why a key that exists and belongs to the account may still not be used, declared once as data, in the order both
 * adapters check: SQLite runs `keyRefusalOf` (through `checkKeyUsable`), PostgreSQL runs the PL/pgSQL that
 * `keyRefusalSql` generates from the same list inside `perdiem_reserve`.
 */
import { AuthenticationError, type PerdiemError, PermissionError } from '../../core/errors.ts';
import type { ApiKey } from './accountsLedger.ts';

/** What the refusal tests read besides the key. */
interface UseOf {
  /** null: any model (authentication, before a model is asked for). */
  model: string | null;
  nowMs: number;
}

/** Each test once in TypeScript and once in SQL, on one key field (a null field never refuses). */
const tests = {
  set: { refuses: () => true, sql: (column: string) => `${column} IS NOT NULL` },
  atOrBeforeNow: {
    refuses: (value: unknown, use: UseOf) => (value as number) <= use.nowMs,
    sql: (column: string, use: { now: string }) => `${column} IS NOT NULL AND ${column} <= ${use.now}`,
  },
  modelNotListed: {
    refuses: (value: unknown, use: UseOf) => use.model !== null && !(value as string[]).includes(use.model),
    sql: (column: string, use: { model: string }) => `${column} IS NOT NULL AND NOT (${use.model} = ANY (${column}))`,
  },
} as const;

interface KeyUsabilityCheck {
  code: string;
  field: 'revokedAtMs' | 'expiresAtMs' | 'allowedModels';
  column: string;
  test: keyof typeof tests;
  error: (model: string | null) => PerdiemError;
}

export const keyUsabilityChecks: readonly KeyUsabilityCheck[] = [
  {
    code: 'api_key_revoked',
    field: 'revokedAtMs',
    column: 'revoked_at_ms',
    test: 'set',
    error: () => new AuthenticationError('API key revoked', { code: 'api_key_revoked' }),
  },
  {
    code: 'api_key_expired',
    field: 'expiresAtMs',
    column: 'expires_at_ms',
    test: 'atOrBeforeNow',
    error: () => new AuthenticationError('API key expired', { code: 'api_key_expired' }),
  },
  {
    code: 'model_not_allowed',
    field: 'allowedModels',
    column: 'allowed_models',
    test: 'modelNotListed',
    error: (model) =>
      new PermissionError(`this key may not use ${model}`, { code: 'model_not_allowed', param: 'model' }),
  },
];

/** The first check that refuses the key for this use, or null. */
export function keyRefusalOf(key: ApiKey, use: UseOf): KeyUsabilityCheck | null {
  for (const check of keyUsabilityChecks) {
    const value = key[check.field];
    if (value !== null && tests[check.test].refuses(value, use)) return check;
  }
  return null;
}

/**
 * The checks as PL/pgSQL: one IF per check on the api_keys row `key`, raising `perdiem:<code>`. `now` and `model`
 * are SQL expressions (a reserve always names its model).
 */
export function keyRefusalSql(key: string, use: { now: string; model: string }): string {
  return keyUsabilityChecks
    .map((check) => {
      const refuses = tests[check.test].sql(`${key}.${check.column}`, use);
      return `IF ${refuses} THEN RAISE EXCEPTION 'perdiem:${check.code}'; END IF;`;
    })
    .join('\n    ');
}
