/**
 * Group commit for the ledger's hot path: every operation queued during one event-loop turn runs in one
 * `BEGIN IMMEDIATE` transaction, and every promise settles only after the COMMIT. Most of the cost of a commit is
 * the pages it writes; a group writes each hot page once. Operations throw their typed errors (PerdiemError) before
 * their first write, so such a failure leaves the group intact; any other error rolls the group back and replays
 * each operation on its own.
 *
 * The group commits in the check phase right after the current poll phase (setImmediate), so it gathers the
 * operations of every socket callback the loop ran in this turn: a gateway's concurrent requests each arrive in
 * their own callback. A request served alone waits only for that phase, not for a timer or more I/O.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { PerdiemError } from '../../core/errors.ts';

/**
 * Writes an adapter keeps in memory during a transaction and makes right before its COMMIT (`flush`), or drops when
 * the transaction rolls back (`discard`). `began` runs right after each BEGIN; `hot` says the transaction runs only
 * hot-path operations (`write`), not an admin one (`tx`).
 */
export interface CommitHook {
  began(hot: boolean): void;
  flush(): void;
  discard(): void;
}

interface PendingOp {
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private readonly db: DatabaseSync;
  private readonly begin: StatementSync;
  private readonly commit: StatementSync;
  private readonly rollback: StatementSync;
  private pending: PendingOp[] = [];
  private readonly hooks: CommitHook[] = [];
  /** Set while commits are held (a WAL checkpoint catching up); operations queue meanwhile. */
  private held = false;
  private readonly flushBound = () => this.flush();

  constructor(db: DatabaseSync) {
    this.db = db;
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /** Runs `hook` before every COMMIT of this connection (and its `discard` on every rollback). */
  addHook(hook: CommitHook): void {
    this.hooks.push(hook);
  }

  /**
   * One transaction around `body`, at once, for writes outside the group commit (admin operations); `hot` when it is
   * a hot-path operation run on its own.
   */
  tx<T>(body: () => T, hot = false): T {
    this.begin.run();
    try {
      for (const hook of this.hooks) hook.began(hot);
      const result = body();
      this.commitNow();
      return result;
    } catch (error) {
      this.rollbackNow();
      throw error;
    }
  }

  /** Queues `body` for the next group; resolves with its result once the group has committed. */
  write<T>(body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ body, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length > 1 || this.held) return;
      setImmediate(this.flushBound);
    });
  }

  /** Holds the next groups (called between two groups, so no write transaction of this connection is open). */
  hold(): void {
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.pending.length > 0) setImmediate(this.flushBound);
  }

  /** Commits what is queued now, unless commits are held. */
  flush(): void {
    if (this.held || this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    if (group.length > 1 && this.runGroup(group)) return;
    for (const op of group) {
      try {
        op.resolve(this.tx(op.body, true));
      } catch (error) {
        op.reject(error);
      }
    }
  }

  /** Runs a group in one transaction; false (and nothing written) when it must be replayed one by one. */
  private runGroup(group: PendingOp[]): boolean {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.begin.run();
      for (const hook of this.hooks) hook.began(true);
      for (const op of group) {
        try {
          outcomes.push({ ok: true, value: op.body() });
        } catch (error) {
          if (!(error instanceof PerdiemError)) throw error;
          outcomes.push({ ok: false, value: error });
        }
      }
      this.commitNow();
    } catch {
      this.rollbackNow();
      return false;
    }
    group.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.value);
    });
    return true;
  }

  private commitNow(): void {
    for (const hook of this.hooks) hook.flush();
    this.commit.run();
  }

  private rollbackNow(): void {
    for (const hook of this.hooks) hook.discard();
    if (this.db.isTransaction) this.rollback.run();
  }
}
