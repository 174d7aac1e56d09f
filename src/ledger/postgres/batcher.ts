/**
 * Group commit for the PostgreSQL hot path: calls queued during one event-loop turn go to the database together, in
 * one round trip and one transaction, up to `ledgerLimits.operationsPerBatchMax` per batch. The batch leaves in the
 * check phase right after the current poll phase (setImmediate), so it gathers the calls of every socket callback the
 * loop ran in this turn (a gateway's concurrent requests each arrive in their own); a lone call waits for nothing
 * more than that phase. When a batch fails (one operation's typed error aborts the whole transaction), each
 * of its operations is replayed on its own, so every caller gets exactly the result or error a lone call would give.
 */
import { ledgerLimits } from '../limits.ts';

interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export class Batcher<I, O> {
  private pending: Pending<I, O>[] = [];
  private readonly one: (input: I) => Promise<O>;
  private readonly many: (inputs: I[]) => Promise<O[]>;
  private readonly flushBound = () => this.flush();

  constructor(one: (input: I) => Promise<O>, many: (inputs: I[]) => Promise<O[]>) {
    this.one = one;
    this.many = many;
  }

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length > 1) return;
      setImmediate(this.flushBound);
    });
  }

  private flush(): void {
    const group = this.pending;
    this.pending = [];
    for (let i = 0; i < group.length; i += ledgerLimits.operationsPerBatchMax) {
      void this.send(group.slice(i, i + ledgerLimits.operationsPerBatchMax));
    }
  }

  private async send(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outputs = await this.many(batch.map((p) => p.input));
        for (const [i, p] of batch.entries()) p.resolve(outputs[i]!);
        return;
      } catch {
        // Replayed one by one below: each caller gets its own result or typed error.
      }
    }
    for (const p of batch) this.one(p.input).then(p.resolve, p.reject);
  }
}
