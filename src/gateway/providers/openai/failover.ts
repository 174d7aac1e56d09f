/** Upstreams in order, with retries, until one succeeds before its first byte. */
import { ClientClosedError, UpstreamTimeoutError } from '../../../core/errors.ts';
import { type Attempt, AttemptFailed, type Call } from './call.ts';
import type { OpenAiTimeouts, OpenAiUpstreamConfig } from './config.ts';
import { type AttemptFailure, exhausted, failureFromError, firstByteTimeout } from './failures.ts';

export interface FailoverPolicy {
  upstreams: readonly OpenAiUpstreamConfig[];
  /** Retries on the same upstream, for failures worth retrying there. */
  retries: number;
  timeouts: OpenAiTimeouts;
}

/** Why an attempt failed, once the call itself is known not to be over (client gone, deadline hit). */
function failureOf(upstream: OpenAiUpstreamConfig, attempt: Attempt, error: unknown, firstByteMs: number) {
  if (attempt.timedOut()) return firstByteTimeout(upstream.name, firstByteMs);
  return error instanceof AttemptFailed ? error.failure : failureFromError(upstream.name, error);
}

/** The error that ends the whole call, when the client went away or the deadline passed; else null. */
function callEnded(call: Call, error: unknown, totalMs: number): Error | null {
  if (call.options?.signal?.aborted) {
    return new ClientClosedError('client closed the request', {
      code: 'client_closed',
      cause: error,
      delivered: { promptTokens: 0, completionTokens: 0, estimated: false },
    });
  }
  if (call.deadlineHit) {
    return new UpstreamTimeoutError(`upstream call exceeded ${totalMs} ms`, { code: 'upstream_timeout', cause: error });
  }
  return null;
}

export async function withFailover<T>(
  call: Call,
  policy: FailoverPolicy,
  open: (upstream: OpenAiUpstreamConfig, attempt: Attempt) => Promise<T>,
): Promise<T> {
  const failures: AttemptFailure[] = [];
  for (const upstream of policy.upstreams) {
    for (let attemptIndex = 0; attemptIndex <= policy.retries; attemptIndex++) {
      const attempt = call.startAttempt(policy.timeouts.firstByteMs);
      try {
        const value = await open(upstream, attempt);
        attempt.dispose();
        return value;
      } catch (error) {
        attempt.dispose();
        const ended = callEnded(call, error, policy.timeouts.totalMs);
        if (ended) throw ended;
        const failure = failureOf(upstream, attempt, error, policy.timeouts.firstByteMs);
        failures.push(failure);
        if (!failure.failover) throw failure.error;
        if (!failure.retrySame) break;
      }
    }
  }
  throw exhausted(failures);
}
