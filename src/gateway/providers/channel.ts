/** A single-consumer async queue: a producer pushes values (from callbacks), a consumer pulls them in order. */
export interface Channel<T> {
  push(value: T): void;
  /** Ends the channel after the values already pushed. */
  close(): void;
  /** Ends the channel with an error, thrown to the consumer after the values already pushed. */
  fail(error: unknown): void;
  readonly iterator: AsyncIterator<T>;
}

export function createChannel<T>(): Channel<T> {
  const values: T[] = [];
  let ended = false;
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;

  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };

  const iterator: AsyncIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      while (values.length === 0 && !ended) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (values.length > 0) return { done: false, value: values.shift() as T };
      if (failure !== null) throw failure.error;
      return { done: true, value: undefined };
    },
  };

  return {
    push(value) {
      if (ended) return;
      values.push(value);
      notify();
    },
    close() {
      ended = true;
      notify();
    },
    fail(error) {
      if (ended) return;
      failure = { error };
      ended = true;
      notify();
    },
    iterator,
  };
}
