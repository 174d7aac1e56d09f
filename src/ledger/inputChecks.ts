/** The two checks every capability's input validation shares. */
import { InvalidRequestError } from '../core/errors.ts';

export function checkText(value: string, lengthMax: number, param: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > lengthMax) {
    throw invalidInput(`${param} must be 1 to ${lengthMax} characters`, param);
  }
}

export function invalidInput(message: string, param: string): InvalidRequestError {
  return new InvalidRequestError(message, { code: 'invalid_request', param });
}
