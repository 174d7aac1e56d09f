/**
 * One provider call and its attempts: the caller's signal, the total deadline and cancellation, joined by hand rather
 * than with `AbortSignal.any`/`AbortSignal.timeout` (which cost a composite signal, weak refs and a timer object per
 * call on the hot path). Whatever ends the call aborts the attempt in flight, which undici watches for the body too.
 */
import type { CallOptions } from '../types.ts';
import type { AttemptFailure } from './failures.ts';

/** Thrown inside an attempt to carry an already-classified failure to the failover loop. */
export class AttemptFailed extends Error {
  readonly failure: AttemptFailure;
  constructor(failure: AttemptFailure) {
    super(failure.error.message);
    this.failure = failure;
  }
}

/** One try on one upstream. */
export interface Attempt {
  signal: AbortSignal;
  /** Stops the first-byte timer. */
  firstByte(): void;
  timedOut(): boolean;
}

export class Call {
  readonly options: CallOptions | undefined;
  #reason: unknown = undefined;
  #ended = false;
  #deadlineHit = false;
  #current: AbortController | null = null;
  readonly #timer: NodeJS.Timeout;
  readonly #onClientAbort = () => this.abort(this.options?.signal?.reason);

  constructor(options: CallOptions | undefined, totalMs: number) {
    this.options = options;
    this.#timer = setTimeout(() => {
      this.#deadlineHit = true;
      this.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, totalMs);
    this.#timer.unref();
    const signal = options?.signal;
    if (signal?.aborted) this.abort(signal.reason);
    else signal?.addEventListener('abort', this.#onClientAbort, { once: true });
  }

  get deadlineHit(): boolean {
    return this.#deadlineHit;
  }

  abort(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    this.#current?.abort(reason);
  }

  /** A controller for the next attempt, already aborted when the call is. */
  attemptController(): AbortController {
    const controller = new AbortController();
    if (this.#ended) controller.abort(this.#reason);
    this.#current = controller;
    return controller;
  }

  /** The next attempt, aborted when the call ends or when no byte came within `firstByteMs`. */
  startAttempt(firstByteMs: number): Attempt & { dispose(): void } {
    const controller = this.attemptController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('first byte timeout'));
    }, firstByteMs);
    return {
      signal: controller.signal,
      firstByte: () => clearTimeout(timer),
      timedOut: () => timedOut,
      dispose: () => clearTimeout(timer),
    };
  }

  /** The call is over (its body read, or its stream finished): drop the timer and the listener. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.options?.signal?.removeEventListener('abort', this.#onClientAbort);
  }
}
