/** Query-string parsing for the account routes; bad values are 400s naming the parameter. */
import { InvalidRequestError } from '../../core/errors.ts';

export function isoTimeParam(value: string | undefined, param: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidRequestError(`${param} must be an ISO-8601 date`, { code: 'invalid_value', param });
  }
  return ms;
}

export function intParam(value: string | undefined, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new InvalidRequestError(`${param} must be an integer from ${min} to ${max}`, {
      code: 'invalid_value',
      param,
    });
  }
  return parsed;
}
