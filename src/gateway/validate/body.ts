/** Reads, parses and validates a JSON body; every failure is a 400 that names the offending parameter. */
import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError } from '../../core/errors.ts';
import { gatewayLimits } from '../limits.ts';

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

/** `messages.0.content` → `messages[0].content`, as OpenAI names params. */
export function paramOf(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

export function parseWith<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const param = paramOf([...issue.path, issue.keys[0]!]);
    throw new InvalidRequestError(`unrecognized request argument supplied: ${param}`, {
      code: 'unknown_parameter',
      param,
    });
  }
  const param = paramOf(issue.path);
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const message = missing ? `${param} is required` : `invalid ${param ?? 'body'}: ${issue.message}`;
  throw new InvalidRequestError(message, { code: missing ? 'missing_required_parameter' : 'invalid_value', param });
}
