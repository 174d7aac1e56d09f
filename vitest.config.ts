import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'web/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default leaves one core free, which is one worker on a 2-core machine; most suites here wait on child
    // processes, a chain or a browser, so two files at a time nearly halves the run without starving either.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
