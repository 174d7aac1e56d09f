/**
 * Runs WAL checkpoints on a thread of its own, so that copying WAL pages into the database file and the fsyncs
 * that go with it never block the event loop that serves requests. The ledger's own connection has automatic
 * checkpoints turned off. A PASSIVE checkpoint never blocks writers.
 *
 * SQLite restarts the WAL from its beginning only when a write transaction begins on a WAL that a checkpoint has
 * copied completely. Under steady load that never happens by itself: the ledger commits every few hundred
 * microseconds, so a checkpoint always ends behind the newest frame, and the WAL grew without bound (5 GB in 20 s of
 * one request at a time). So once the WAL holds more than `walFramesMax` frames, this thread runs a few more passes
 * until one has little left behind it, then asks the ledger to hold its group commits (`pause`); the ledger answers
 * `paused` between two groups, one last checkpoint copies the few frames left and so completes, and `resume` lets the
 * ledger go on. Its next commit restarts the WAL. Requests keep being served meanwhile: only their ledger operations
 * wait, 4-6 ms at 64 pairs in flight on this machine.
 *
 * Messages: in `paused`, `stop`; out `pause`, `resume`, `stopped`.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs, walFramesMax } = workerData as { path: string; intervalMs: number; walFramesMax: number };
const db = new DatabaseSync(path);
db.exec('PRAGMA busy_timeout = 1000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
/** A pass that found at most this many new frames ends the passes: about what the held checkpoint copies. */
const heldFramesMax = 256;
const catchUpPassesMax = 4;
let stopping = false;
let catchingUp = false;

/** A PASSIVE checkpoint: the frames the WAL held when it began; null when the database was busy (next tick). */
function checkpointNow(): number | null {
  try {
    const row = checkpoint.get() as { busy: number; log: number } | undefined;
    return row && Number(row.busy) === 0 ? Number(row.log) : null;
  } catch {
    return null;
  }
}

const timer = setInterval(() => {
  if (stopping || catchingUp) return;
  let frames = checkpointNow();
  if (frames === null || frames <= walFramesMax) return;
  // A checkpoint copies the frames the WAL held when it began, so what the ledger wrote meanwhile is left for the
  // next one. Each pass here (without a hold) copies what was written during the pass before, and they shrink
  // quickly; the hold then waits for a few hundred frames rather than for one pass behind a busy WAL (10-15 ms).
  for (let pass = 0; pass < catchUpPassesMax; pass++) {
    const next = checkpointNow();
    if (next === null) break;
    const writtenMeanwhile = next - frames;
    frames = next;
    if (writtenMeanwhile <= heldFramesMax) break;
  }
  catchingUp = true;
  parentPort?.postMessage('pause');
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message === 'paused') {
    checkpointNow();
    catchingUp = false;
    parentPort?.postMessage('resume');
    return;
  }
  if (message !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } finally {
    db.close();
    parentPort?.postMessage('stopped');
  }
});
