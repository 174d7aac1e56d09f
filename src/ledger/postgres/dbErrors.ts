/**
 * The ledger functions raise `perdiem:<code>`; this maps each code to the typed error the gateway renders, and
 * retries a transaction PostgreSQL aborted to break a deadlock.
 */
import {
  AuthenticationError,
  ConflictError,
  IdempotencyMismatchError,
  InsufficientFundsError,
  NotFoundError,
  PermissionError,
} from '../../core/errors.ts';
import { refusedByHeader } from '../metering/keyLimitRules.ts';
import type { BudgetLevel } from '../teams/teamsLedger.ts';

const errorOfCode: Record<string, (code: string) => Error> = {
  account_not_found: (code) => new NotFoundError('account not found', { code }),
  reservation_not_found: (code) => new NotFoundError('reservation not found', { code }),
  idempotency_key_mismatch: (code) =>
    new IdempotencyMismatchError('this idempotency key was already used for a different request', {
      code,
      param: null,
    }),
  idempotency_key_reused: (code) =>
    new ConflictError('idempotency key reused for a different request', { code, param: 'Idempotency-Key' }),
  already_settled: (code) => new ConflictError('reservation already settled', { code }),
  reservation_not_active: (code) => new ConflictError('reservation is no longer active', { code }),
  invalid_api_key: (code) => new AuthenticationError('unknown API key', { code }),
  api_key_revoked: (code) => new AuthenticationError('API key revoked', { code }),
  api_key_expired: (code) => new AuthenticationError('API key expired', { code }),
  model_not_allowed: (code) => new PermissionError('this key may not use this model', { code, param: 'model' }),
  key_limit_exceeded: (code) => refused('this API key has reached its spend limit', code, 'key'),
  project_budget_exceeded: (code) => refused("this key's project has reached its budget", code, 'project'),
  organization_budget_exceeded: (code) =>
    refused("this key's organization has reached its budget", code, 'organization'),
  insufficient_balance: (code) => refused('insufficient balance', code, 'source'),
};

/** A reservation refused by a level of the budget tree (the metering adapter explains it further). */
function refused(message: string, code: string, level: BudgetLevel): InsufficientFundsError {
  return new InsufficientFundsError(message, { code, headers: { [refusedByHeader]: level } });
}

/** The typed error for a `perdiem:<code>` raised by a ledger function; any other error as it is. */
export function mapDbError(error: unknown): unknown {
  const message = (error as { message?: string }).message ?? '';
  const match = /^perdiem:(\w+)$/.exec(message);
  const code = match?.[1];
  return code !== undefined && Object.hasOwn(errorOfCode, code) ? errorOfCode[code]!(code) : error;
}

export async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw mapDbError(error);
  }
}

/** Runs `transaction` again when PostgreSQL aborted it to break a deadlock (SQLSTATE 40P01). */
export async function retryOnDeadlock<T>(transaction: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= attempts) throw error;
    }
  }
}
