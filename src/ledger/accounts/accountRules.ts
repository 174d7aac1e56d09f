/** Pure account rules both adapters share: key input, whether a key is usable now, wallet addresses. */
import { AuthenticationError, NotFoundError } from '../../core/errors.ts';
import { checkText, invalidInput } from '../inputChecks.ts';
import { ledgerLimits } from '../limits.ts';
import { limitCurrencies, limitPeriods } from '../vocabulary.ts';
import type { ApiKey, CreateKeyInput, KeyLimit, KeyRateLimits, UpdateKeyInput } from './accountsLedger.ts';
import { keyRefusalOf } from './keyUsability.ts';

export function validateKeyInput(input: CreateKeyInput | UpdateKeyInput): void {
  if ('kind' in input && input.kind !== 'INFERENCE' && input.kind !== 'ADMIN') throw invalidInput('kind', 'kind');
  if (input.name !== undefined) checkText(input.name, 255, 'name');
  if (input.expiresAtMs != null && (!Number.isSafeInteger(input.expiresAtMs) || input.expiresAtMs < 0)) {
    throw invalidInput('expiresAtMs must be a unix time in ms', 'expiresAtMs');
  }
  if (input.allowedModels != null) {
    if (input.allowedModels.length > ledgerLimits.allowedModelsPerKeyMax)
      throw invalidInput('too many models', 'allowedModels');
    for (const model of input.allowedModels) checkText(model, ledgerLimits.modelNameLengthMax, 'allowedModels');
  }
  if (input.limits !== undefined) validateLimits(input.limits);
  if (input.rateLimits != null) validateRateLimits(input.rateLimits);
}

function validateRateLimits(rateLimits: KeyRateLimits): void {
  for (const field of ['requestsPerMinute', 'tokensPerMinute'] as const) {
    const value = rateLimits[field];
    if (value === null) continue;
    if (!Number.isSafeInteger(value) || value < 1 || value > ledgerLimits.keyRateLimitPerMinuteMax) {
      throw invalidInput(
        `rateLimits.${field} must be null or an integer from 1 to ${ledgerLimits.keyRateLimitPerMinuteMax}`,
        `rateLimits.${field}`,
      );
    }
  }
}

function validateLimits(limits: KeyLimit[]): void {
  if (limits.length > ledgerLimits.keyLimitsPerKeyMax) throw invalidInput('too many limits', 'limits');
  const seen = new Set<string>();
  for (const limit of limits) {
    if (!limitCurrencies.includes(limit.currency)) {
      throw invalidInput('limit currency must be DIEM, USD or TOTAL', 'limits');
    }
    if (!limitPeriods.includes(limit.period))
      throw invalidInput('limit period must be EPOCH, MONTH or LIFETIME', 'limits');
    if (typeof limit.amountNano !== 'bigint' || limit.amountNano < 0n)
      throw invalidInput('limit must be >= 0', 'limits');
    const id = `${limit.currency}:${limit.period}`;
    if (seen.has(id)) throw invalidInput(`two ${id} limits`, 'limits');
    seen.add(id);
  }
}

/** The key may be used for `model` now, or a typed error says why not (the checks: keyUsability.ts). */
export function checkKeyUsable(key: ApiKey | null, accountId: string, model: string | null, nowMs: number): ApiKey {
  if (!key || key.accountId !== accountId)
    throw new AuthenticationError('unknown API key', { code: 'invalid_api_key' });
  const refusal = keyRefusalOf(key, { model, nowMs });
  if (refusal) throw refusal.error(model);
  return key;
}

/** A wallet's allowance counts only for the account it is linked to: an unlinked wallet has none. */
export function walletNotLinked(): NotFoundError {
  return new NotFoundError('wallet is not linked to an account', { code: 'wallet_not_found', param: 'address' });
}

export function normaliseWallet(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw invalidInput('not an EVM address', 'address');
  return address.toLowerCase();
}
