/**
 * Runs WAL checkpoints on a thread of its own, so that copying WAL pages into the database file and the fsyncs
 * that go with it never block the event loop that serves requests. The ledger's own connection has automatic
 * checkpoints turned off. A PASSIVE checkpoint never blocks writers; SQLite restarts the WAL from its beginning once
 * a checkpoint has copied every frame.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new DatabaseSync(path);
db.exec('PRAGMA busy_timeout = 1000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let stopping = false;

const timer = setInterval(() => {
  if (stopping) return;
  try {
    checkpoint.get();
  } catch {
    // A busy database is checkpointed on the next tick.
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
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
