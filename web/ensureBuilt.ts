/**
 * Builds the dashboard into web/dist when it is missing or older than any of its sources. `perdiem up` calls
 * `ensureDashboardBuilt()` before it serves the dashboard, so a fresh checkout or an edited page just works.
 *
 * Several `perdiem up` processes may start at once (the test suite does): one builds under a lock directory while
 * the others wait for it, and the build goes to a temporary directory that replaces web/dist in two renames, so a
 * gateway already serving web/dist never sees it half written.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

export const webRoot = import.meta.dirname;
export const dashboardDist = path.join(webRoot, 'dist');
const repoRoot = path.resolve(webRoot, '..');

/** Everything the bundle is built from: the app, its build config, and what it imports from ../src. */
const sources = [
  path.join(webRoot, 'src'),
  path.join(webRoot, 'index.html'),
  path.join(webRoot, 'vite.config.ts'),
  path.join(repoRoot, 'src', 'core', 'mintCurve.ts'),
  // The operator page renders prices through the gateway's price units (and the core pricing they use).
  path.join(repoRoot, 'src', 'gateway', 'kinds'),
  path.join(repoRoot, 'src', 'core', 'pricing.ts'),
  path.join(repoRoot, 'src', 'core', 'money.ts'),
  path.join(repoRoot, 'src', 'core', 'errors.ts'),
  path.join(repoRoot, 'src', 'chain', 'generated', 'contracts.ts'),
  path.join(repoRoot, 'package-lock.json'),
];

function newestMtimeMs(target: string): number {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(target);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtimeMs(path.join(target, entry)));
  return newest;
}

/** True when web/dist/index.html is missing or older than a source. */
export function dashboardIsStale(): boolean {
  const built = newestMtimeMs(path.join(dashboardDist, 'index.html'));
  return built === 0 || sources.some((source) => newestMtimeMs(source) > built);
}

/** Work space beside the repo's other caches: ignored by git and biome, on the same file system as web/dist. */
const cacheDir = path.join(repoRoot, 'node_modules', '.cache', 'perdiem-web');
const lockDir = path.join(cacheDir, 'build.lock');
const lockWaitMs = 120_000;
const lockPollMs = 200;

/** Runs `vite build` (as `npm run web:build` does) into `outDir` in a child process; rejects with its output. */
function viteBuild(outDir: string): Promise<void> {
  const vite = path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [vite, 'build', '--config', path.join(webRoot, 'vite.config.ts'), '--outDir', outDir];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`building the dashboard failed (vite exit ${code}):\n${output}`)),
    );
  });
}

/** Builds into a temporary directory, then swaps it in for web/dist. */
export async function buildDashboard(): Promise<void> {
  const fresh = path.join(cacheDir, `dist-${process.pid}`);
  const old = path.join(cacheDir, `dist-old-${process.pid}`);
  try {
    await viteBuild(fresh);
    try {
      renameSync(dashboardDist, old);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    renameSync(fresh, dashboardDist);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}

async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(cacheDir, { recursive: true });
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than any build is left over from a crash.
      if (Date.now() > deadline) rmSync(lockDir, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, lockPollMs));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Returns web/dist, building it first when it is missing or stale. */
export async function ensureDashboardBuilt(progress: (line: string) => void = () => {}): Promise<string> {
  if (!dashboardIsStale()) return dashboardDist;
  await withBuildLock(async () => {
    // Another process may have built it while this one waited.
    if (!dashboardIsStale()) return;
    progress('building the dashboard (web/dist)…');
    await buildDashboard();
  });
  return dashboardDist;
}
