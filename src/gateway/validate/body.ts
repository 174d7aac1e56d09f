/** Reads, parses and validates a JSON body; every failure is a 400 that names the offending parameter. */
import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError } from '../../core/errors.ts';
import { gatewayLimits } from '../limits.ts';
import { invalidRequestOf, issueText } from './issues.ts';

export async function readJsonBody(c: Context): Promise<unknown> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > gatewayLimits.requestBodyBytesMax) throw tooLarge();
  const text = await c.req.text();
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only a long text needs its bytes counted.
  if (
    text.length * 3 > gatewayLimits.requestBodyBytesMax &&
    Buffer.byteLength(text, 'utf8') > gatewayLimits.requestBodyBytesMax
  ) {
    throw tooLarge();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Only a body that failed to parse is looked at again, rather than trimming a copy of every body first.
    const message = /^\s*$/.test(text)
      ? 'the request body is empty; send a JSON object'
      : 'the request body is not valid JSON';
    throw new InvalidRequestError(message, { code: 'invalid_json' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the request body must be a JSON object', { code: 'invalid_json' });
  }
  return body;
}

function tooLarge(): InvalidRequestError {
  return new InvalidRequestError(`the request body is over ${gatewayLimits.requestBodyBytesMax} bytes`, {
    code: 'request_too_large',
  });
}

/** Parses `body` with `schema`; a failure is the 400 that names the field and says what was wrong with it. */
export function parseWith<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body, { reportInput: true, error: issueText });
  if (result.success) return result.data;
  throw invalidRequestOf(result.error.issues);
}
