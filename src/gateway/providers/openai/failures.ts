/**
 * Classifies what went wrong with one upstream attempt before its first byte, into the typed error the client
 * would see and whether another attempt (same upstream again, or the next one) may be made.
 */
import {
  InvalidRequestError,
  type PerdiemError,
  type TokenUsage,
  UnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../core/errors.ts';
import { extractUsage } from './usage.ts';

export interface AttemptFailure {
  error: PerdiemError;
  /** Another upstream may be tried. */
  failover: boolean;
  /** The same upstream may be tried again (false for timeouts and refused connections). */
  retrySame: boolean;
}

const connectCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function errorCode(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === 'string') return direct;
  const nested = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof nested === 'string' ? nested : undefined;
}

function upstreamMessage(bodyText: string): string {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { message?: unknown } | string; message?: unknown };
    const message =
      typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? bodyText);
    return String(message).slice(0, 500);
  } catch {
    return bodyText.slice(0, 500);
  }
}

export function failureFromStatus(
  upstream: string,
  status: number,
  bodyText: string,
  retryAfter: string | undefined,
): AttemptFailure {
  const detail = upstreamMessage(bodyText);
  if (status === 400 || status === 413 || status === 422) {
    // The request itself is wrong; every upstream would say the same.
    return {
      error: new InvalidRequestError(detail || `upstream rejected the request (${status})`, {
        code: 'upstream_rejected',
      }),
      failover: false,
      retrySame: false,
    };
  }
  if (status === 429 || status === 503) {
    // Busy or rate limited: another upstream may have room; this one will not in the next millisecond.
    return {
      error: new UnavailableError(`upstream ${upstream} is busy (${status}): ${detail}`, {
        code: 'upstream_busy',
        headers: retryAfter ? { 'retry-after': retryAfter } : {},
      }),
      failover: true,
      retrySame: false,
    };
  }
  const billed = status >= 500 ? reportedUsage(bodyText) : null;
  return {
    error: new UpstreamError(`upstream ${upstream} answered ${status}: ${detail}`, {
      code: `upstream_${status}`,
      ...(billed === null ? {} : { billed }),
    }),
    failover: true,
    retrySame: status >= 500,
  };
}

/** The usage a failed upstream reported in its error body (what its provider bills), or null. */
function reportedUsage(bodyText: string): TokenUsage | null {
  try {
    return extractUsage(JSON.parse(bodyText));
  } catch {
    return null;
  }
}

export function failureFromError(upstream: string, error: unknown): AttemptFailure {
  if (error instanceof UpstreamError || error instanceof UnavailableError || error instanceof UpstreamTimeoutError) {
    return { error, failover: true, retrySame: error instanceof UpstreamError };
  }
  const code = errorCode(error);
  if (code !== undefined && connectCodes.has(code)) {
    return {
      error: new UnavailableError(`upstream ${upstream} is unreachable (${code})`, {
        code: 'upstream_unreachable',
        cause: error,
      }),
      failover: true,
      retrySame: false,
    };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return {
    error: new UpstreamError(`upstream ${upstream} failed: ${code ?? reason}`, {
      code: 'upstream_failed',
      cause: error,
    }),
    failover: true,
    retrySame: true,
  };
}

export function firstByteTimeout(upstream: string, timeoutMs: number): AttemptFailure {
  return {
    error: new UpstreamTimeoutError(`upstream ${upstream} sent nothing within ${timeoutMs} ms`, {
      code: 'upstream_first_byte_timeout',
    }),
    failover: true,
    retrySame: false,
  };
}

/** The error for a call whose every attempt failed: the last one, which says most about the last upstream. */
export function exhausted(failures: readonly AttemptFailure[]): PerdiemError {
  return failures.at(-1)?.error ?? new UnavailableError('no upstream configured', { code: 'no_upstream' });
}
