import { describe, expect, it } from 'vitest';
import { GatewayError, openAiErrorOf } from './gatewayError.ts';

describe('openAiErrorOf', () => {
  it('reads the status and every OpenAI error field', () => {
    const body = { error: { message: 'key limit reached', type: 'insufficient_quota', code: 'key_limit', param: 'x' } };
    const error = openAiErrorOf(402, body, 'fallback');
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      name: 'GatewayError',
      status: 402,
      message: 'key limit reached',
      type: 'insufficient_quota',
      code: 'key_limit',
      param: 'x',
    });
  });

  it('falls back to the given message, with null fields, when the body is not OpenAI-shaped', () => {
    for (const body of ['<html>bad gateway</html>', null, { detail: 'nope' }, { error: 'flat' }]) {
      expect(openAiErrorOf(502, body, 'fallback')).toMatchObject({
        status: 502,
        message: 'fallback',
        type: null,
        code: null,
        param: null,
      });
    }
  });
});
