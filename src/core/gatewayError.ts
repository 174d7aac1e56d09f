/**
 * A gateway's error answer as its clients (the CLI, the dashboard) read it: the HTTP status and the fields of the
 * OpenAI-shaped body `{error:{message,type,code,param}}` that every gateway error carries.
 */

export interface GatewayErrorFields {
  type?: string | null;
  code?: string | null;
  param?: string | null;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;
  readonly type: string | null;
  readonly code: string | null;
  readonly param: string | null;

  constructor(message: string, status: number, fields: GatewayErrorFields = {}) {
    super(message);
    this.status = status;
    this.type = fields.type ?? null;
    this.code = fields.code ?? null;
    this.param = fields.param ?? null;
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * The error of an answer with `status` and `body` (parsed JSON, or the text when it is not JSON): the OpenAI error
 * fields it carries, with `fallback` as the message when it carries none.
 */
export function openAiErrorOf(status: number, body: unknown, fallback: string): GatewayError {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  const fields = typeof error === 'object' && error !== null ? error : {};
  return new GatewayError(stringOrNull(fields.message) ?? fallback, status, {
    type: stringOrNull(fields.type),
    code: stringOrNull(fields.code),
    param: stringOrNull(fields.param),
  });
}
