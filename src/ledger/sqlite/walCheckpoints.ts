/**
 * WAL checkpoints on a thread of their own (checkpointWorker.ts), and the commit holds they ask for: above
 * `walFramesMax` frames the thread asks the ledger to hold its group commits for one short checkpoint, so that the
 * WAL restarts. The hold is lifted by the thread's `resume`, or after `commitHoldMsMax` should that never come.
 */
import { Worker } from 'node:worker_threads';
import type { GroupCommit } from './groupCommit.ts';

export interface WalCheckpointOptions {
  path: string;
  intervalMs: number;
  walFramesMax: number;
  /** The longest commits stay held for a checkpoint to catch up, should the checkpoint thread not answer. */
  commitHoldMsMax: number;
}

export class WalCheckpoints {
  private readonly worker: Worker;
  private readonly commits: GroupCommit;
  private readonly commitHoldMsMax: number;
  private holdTimer: NodeJS.Timeout | null = null;

  constructor(commits: GroupCommit, options: WalCheckpointOptions) {
    this.commits = commits;
    this.commitHoldMsMax = options.commitHoldMsMax;
    this.worker = new Worker(new URL('./checkpointWorker.ts', import.meta.url), {
      workerData: { path: options.path, intervalMs: options.intervalMs, walFramesMax: options.walFramesMax },
    });
    this.worker.unref();
    this.worker.on('message', (message: unknown) => {
      if (message === 'pause') this.holdCommits();
      else if (message === 'resume') this.releaseCommits();
    });
  }

  /** Stops the thread after its last checkpoint, then lifts any hold. */
  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.on('message', (message: unknown) => {
        if (message === 'stopped') resolve();
      });
    });
    this.worker.postMessage('stop');
    await stopped;
    await this.worker.terminate();
    this.releaseCommits();
  }

  /** Runs between two groups (a group runs in one callback), so no write transaction of the ledger is open. */
  private holdCommits(): void {
    if (this.holdTimer) return;
    this.holdTimer = setTimeout(() => this.releaseCommits(), this.commitHoldMsMax).unref();
    this.commits.hold();
    this.worker.postMessage('paused');
  }

  private releaseCommits(): void {
    if (!this.holdTimer) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.commits.release();
  }
}
