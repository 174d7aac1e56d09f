/**
 * One error base for every operating error that reaches a client. Each subclass has a literal `name`, an HTTP
 * status, an OpenAI error `type`, a stable `code` and a `retryable` flag. Programmer errors are not PerdiemErrors:
 * they are assertions (see `assert`) and crash loudly.
 */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'insufficient_quota'
  | 'rate_limit_error'
  | 'api_error'
  | 'upstream_error';

export interface PerdiemErrorOptions {
  code: string;
  param?: string | null;
  cause?: unknown;
  /** Extra response headers, e.g. Retry-After for 429. */
  headers?: Record<string, string>;
  /** Extra top-level fields of the error body, beside `error` (e.g. x402's `accepts` on a 402). */
  bodyFields?: Record<string, unknown>;
  /**
   * The usage an upstream reported with its failure (a 5xx with a usage body, a stream that broke after its usage):
   * what its provider bills the operator for, though the client is not charged for it.
   */
  billed?: TokenUsage;
}

export abstract class PerdiemError extends Error {
  abstract override readonly name: string;
  abstract readonly status: number;
  abstract readonly type: OpenAiErrorType;
  abstract readonly retryable: boolean;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly bodyFields: Record<string, unknown>;
  readonly billed: TokenUsage | null;

  constructor(message: string, options: PerdiemErrorOptions) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.bodyFields = options.bodyFields ?? {};
    this.billed = options.billed ?? null;
  }
}

/** How deep `billedOf` follows `cause`: a provider's error wrapped by the stream, wrapped by the gateway. */
const billedCauseDepthMax = 4;

/** The usage an upstream reported with a failure, on the error or along its causes; null when none did. */
export function billedOf(error: unknown): TokenUsage | null {
  let current: unknown = error;
  for (let depth = 0; depth < billedCauseDepthMax && current instanceof Error; depth++) {
    if (current instanceof PerdiemError && current.billed !== null) return current.billed;
    current = current.cause;
  }
  return null;
}

/** 400: the request is malformed or names something that does not exist. */
export class InvalidRequestError extends PerdiemError {
  override readonly name = 'InvalidRequestError';
  readonly status = 400;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
}

/** 401: missing, unknown, revoked or expired credentials. */
export class AuthenticationError extends PerdiemError {
  override readonly name = 'AuthenticationError';
  readonly status = 401;
  readonly type = 'authentication_error';
  readonly retryable = false;
}

/** 402: the funding sources or the key's limit cannot cover the request. */
export class InsufficientFundsError extends PerdiemError {
  override readonly name = 'InsufficientFundsError';
  readonly status = 402;
  readonly type = 'insufficient_quota';
  readonly retryable = false;
}

/**
 * 402 from x402: pay to continue. Carries the x402 v2 `PaymentRequired` in the `PAYMENT-REQUIRED` header and its
 * fields (`x402Version`, `accepts`, …) beside `error` in the body, so x402 clients and OpenAI clients both read it.
 */
export class PaymentRequiredError extends PerdiemError {
  override readonly name = 'PaymentRequiredError';
  readonly status = 402;
  readonly type = 'insufficient_quota';
  readonly retryable = false;
}

/** 403: authenticated, but not allowed (e.g. a model the key may not use). */
export class PermissionError extends PerdiemError {
  override readonly name = 'PermissionError';
  readonly status = 403;
  readonly type = 'permission_error';
  readonly retryable = false;
}

/** 404: a resource (key, model, reservation) that does not exist. */
export class NotFoundError extends PerdiemError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
}

/** 409: conflicts with the current state (e.g. an idempotency key reused with another body, a settle twice). */
export class ConflictError extends PerdiemError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
}

/**
 * 422: an Idempotency-Key reused with a different request (another body, path or key). Stripe's rule: the key names
 * one request; nothing is charged or changed.
 */
export class IdempotencyMismatchError extends PerdiemError {
  override readonly name = 'IdempotencyMismatchError';
  readonly status = 422;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
}

/** 429: a rate limit; carries Retry-After. */
export class RateLimitError extends PerdiemError {
  override readonly name = 'RateLimitError';
  readonly status = 429;
  readonly type = 'rate_limit_error';
  readonly retryable = true;
}

/** 502: the upstream answered with an error or broke the connection. */
export class UpstreamError extends PerdiemError {
  override readonly name = 'UpstreamError';
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = true;
}

/** 503: no upstream (or dependency) can serve the request right now. */
export class UnavailableError extends PerdiemError {
  override readonly name = 'UnavailableError';
  readonly status = 503;
  readonly type = 'api_error';
  readonly retryable = true;
}

/** 504: the upstream did not answer in time. */
export class UpstreamTimeoutError extends PerdiemError {
  override readonly name = 'UpstreamTimeoutError';
  readonly status = 504;
  readonly type = 'upstream_error';
  readonly retryable = true;
}

/** Tokens delivered to a client, so that an interrupted request is charged only for what it received. */
export interface TokenUsage {
  /** Every prompt token, cached ones included (OpenAI's prompt_tokens). */
  promptTokens: number;
  /** Every completion token, reasoning included (OpenAI's completion_tokens). */
  completionTokens: number;
  /** Of `promptTokens`, those read from the upstream's prompt cache. */
  cachedPromptTokens?: number;
  /** Of `promptTokens`, those written to the upstream's prompt cache (priced at the cache-write rate). */
  cacheWritePromptTokens?: number;
  /** Of `completionTokens`, the model's reasoning (OpenAI's completion_tokens_details.reasoning_tokens). */
  reasoningTokens?: number;
  /** True when the upstream reported no usage and the counts come from an estimator. */
  estimated: boolean;
}

export interface InterruptedErrorOptions extends PerdiemErrorOptions {
  delivered: TokenUsage;
}

/** 502: a stream broke after its first chunk reached the client. Charge `delivered`, nothing more. */
export class StreamInterruptedError extends PerdiemError {
  override readonly name = 'StreamInterruptedError';
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = false;
  readonly delivered: TokenUsage;

  constructor(message: string, options: InterruptedErrorOptions) {
    super(message, options);
    this.delivered = options.delivered;
  }
}

/** 499 (nginx's "client closed request"): the client went away, so generation was stopped. Charge `delivered`. */
export class ClientClosedError extends PerdiemError {
  override readonly name = 'ClientClosedError';
  readonly status = 499;
  readonly type = 'api_error';
  readonly retryable = false;
  readonly delivered: TokenUsage;

  constructor(message: string, options: InterruptedErrorOptions) {
    super(message, options);
    this.delivered = options.delivered;
  }
}

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; code: string; param: string | null };
  [detail: string]: unknown;
}

/** The one function that renders any failure in the OpenAI shape. Unknown errors become an opaque 500. */
export function toOpenAiError(error: unknown): {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
} {
  if (error instanceof PerdiemError) {
    return {
      status: error.status,
      headers: error.headers,
      body: {
        ...error.bodyFields,
        error: { message: error.message, type: error.type, code: error.code, param: error.param },
      },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: { message: 'internal error', type: 'api_error', code: 'internal_error', param: null } },
  };
}

/** A programmer error: an invariant the code relies on does not hold. Never caught, never shown to clients. */
export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}
