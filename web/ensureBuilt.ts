/**
 * Builds the dashboard into web/dist when it is missing or older than any of its sources. `perdiem up` calls
 * `ensureDashboardBuilt()` before it serves the dashboard, so a fresh checkout or an edited page just works.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

/** Runs `vite build` (the same as `npm run web:build`) in a child process; rejects with its output on failure. */
export function buildDashboard(): Promise<void> {
  const vite = path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--config', path.join(webRoot, 'vite.config.ts')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

/** Returns web/dist, building it first when it is missing or stale. */
export async function ensureDashboardBuilt(progress: (line: string) => void = () => {}): Promise<string> {
  if (dashboardIsStale()) {
    progress('building the dashboard (web/dist)…');
    await buildDashboard();
  }
  return dashboardDist;
}
