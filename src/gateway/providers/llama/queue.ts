/**
 * One model runs one request at a time; the rest wait in a bounded FIFO. A full queue is a 503 at once, and a
 * waiter whose signal fires leaves the queue without running.
 */
import { ClientClosedError, UnavailableError } from '../../../core/errors.ts';

export interface SerialQueue {
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly waiting: number;
  readonly running: boolean;
}

interface Waiter {
  start: () => void;
}

export function createSerialQueue(options: { name: string; lengthMax: number }): SerialQueue {
  const waiters: Waiter[] = [];
  let running = false;

  const release = () => {
    const next = waiters.shift();
    if (next === undefined) running = false;
    else next.start();
  };

  const acquire = (signal: AbortSignal | undefined): Promise<void> => {
    if (!running) {
      running = true;
      return Promise.resolve();
    }
    if (waiters.length >= options.lengthMax) {
      return Promise.reject(
        new UnavailableError(`model ${options.name} is busy: ${waiters.length} requests already waiting`, {
          code: 'queue_full',
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = waiters.indexOf(waiter);
        if (index >= 0) waiters.splice(index, 1);
        reject(
          new ClientClosedError('client closed the request while it was queued', {
            code: 'client_closed',
            delivered: { promptTokens: 0, completionTokens: 0, estimated: false },
          }),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
    });
  };

  return {
    async run(task, signal) {
      if (signal?.aborted) {
        throw new ClientClosedError('client closed the request', {
          code: 'client_closed',
          delivered: { promptTokens: 0, completionTokens: 0, estimated: false },
        });
      }
      await acquire(signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
    get waiting() {
      return waiters.length;
    },
    get running() {
      return running;
    },
  };
}
