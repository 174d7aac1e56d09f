/**
 * Side-by-side comparison of this tree against an older commit, in one run: `node bench/compare.ts <base-ref>`.
 *
 * The base commit is checked out in a temporary git worktree (sharing this tree's node_modules). Each round runs the
 * ledger and the gateway benchmarks once in each tree, alternating which goes first, so that load from other tenants
 * falls on both alike. The headline figure of each metric is the median over rounds of the ratio new / base, taken
 * within each round, with the range over rounds. Writes bench/results/compare.json and compare.md; this tree's own
 * ledger and gateway results are restored afterwards, since a comparison run is shorter than a headline run.
 *
 * Environment: COMPARE_ROUNDS (default 3); the benchmarks' own variables pass through (BENCH_SECONDS, …), with
 * BENCH_RUNS and BENCH_ROUNDS set to 1 per round.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

type Bench = 'ledger' | 'gateway';

interface Metric {
  bench: Bench;
  name: string;
  /** Which direction is better, so the table can say whether a ratio is a gain or a loss. */
  better: 'higher' | 'lower';
  read: (result: Record<string, unknown>) => number | undefined;
}

const roundsCount = Number(process.env.COMPARE_ROUNDS ?? 3);
const benches: readonly Bench[] = ['ledger', 'gateway'];

const metrics: readonly Metric[] = [
  { bench: 'ledger', name: 'SQLite pairs/s (256 in flight)', better: 'higher', read: at('sqlite.pairsPerSecond') },
  {
    bench: 'ledger',
    name: 'SQLite pair p50 ms, one at a time',
    better: 'lower',
    read: at('sqlite.concurrency1.p50Ms'),
  },
  { bench: 'ledger', name: 'PostgreSQL pairs/s (64 in flight)', better: 'higher', read: at('postgres.pairsPerSecond') },
  {
    bench: 'ledger',
    name: 'PostgreSQL pair p50 ms, one at a time',
    better: 'lower',
    read: at('postgres.concurrency1.p50Ms'),
  },
  { bench: 'gateway', name: 'gateway req/s (metered)', better: 'higher', read: at('gateway.rps') },
  { bench: 'gateway', name: 'gateway added p50 ms', better: 'lower', read: at('added.p50Ms') },
  {
    bench: 'gateway',
    name: 'gateway / pass-through throughput',
    better: 'higher',
    read: at('throughputVsPassthrough'),
  },
  { bench: 'gateway', name: 'gateway CPU µs per request', better: 'lower', read: at('gatewayCpuUsPerRequest') },
];

function at(path: string): (result: Record<string, unknown>) => number | undefined {
  return (result) => {
    let value: unknown = result;
    for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    return typeof value === 'number' ? value : undefined;
  };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function checkoutBase(tree: string, ref: string): string {
  const sha = git(tree, 'rev-parse', '--verify', `${ref}^{commit}`);
  const dir = join(tree, '.bench-base', sha.slice(0, 12));
  if (!existsSync(dir)) {
    git(tree, 'worktree', 'add', '--detach', dir, sha);
    symlinkSync(join(tree, 'node_modules'), join(dir, 'node_modules'));
  }
  return dir;
}

function runBench(tree: string, bench: Bench): Record<string, unknown> {
  execFileSync(process.execPath, [join('bench', `${bench}.bench.ts`)], {
    cwd: tree,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BENCH_RUNS: '1', BENCH_ROUNDS: '1' },
  });
  return JSON.parse(readFileSync(join(tree, 'bench', 'results', `${bench}.json`), 'utf8'));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** This tree's own results, put back after the comparison overwrote them. */
function keepResults(tree: string): () => void {
  const files = benches.flatMap((bench) => [`${bench}.json`, `${bench}.md`]).map((f) => join(tree, 'bench/results', f));
  const saved = files.map((file) => (existsSync(file) ? readFileSync(file) : null));
  return () => {
    for (const [i, file] of files.entries()) {
      const content = saved[i];
      if (content) writeFileSync(file, content);
      else rmSync(file, { force: true });
    }
  };
}

interface RoundResult {
  base: Record<Bench, Record<string, unknown>>;
  head: Record<Bench, Record<string, unknown>>;
}

function runRounds(head: string, base: string): RoundResult[] {
  const rounds: RoundResult[] = [];
  for (let round = 0; round < roundsCount; round++) {
    const result = { base: {}, head: {} } as RoundResult;
    for (const bench of benches) {
      const order: ('base' | 'head')[] = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      for (const side of order) {
        console.error(`round ${round + 1}/${roundsCount}: ${bench} on ${side}`);
        result[side][bench] = runBench(side === 'head' ? head : base, bench);
      }
    }
    rounds.push(result);
  }
  return rounds;
}

function summarise(rounds: RoundResult[]) {
  return metrics.map((metric) => {
    const pairs = rounds
      .map((r) => [metric.read(r.base[metric.bench]), metric.read(r.head[metric.bench])] as const)
      .filter((p): p is readonly [number, number] => p[0] !== undefined && p[1] !== undefined && p[0] > 0);
    const ratios = pairs.map(([b, h]) => h / b);
    return {
      bench: metric.bench,
      metric: metric.name,
      better: metric.better,
      base: pairs.length ? median(pairs.map((p) => p[0])) : null,
      head: pairs.length ? median(pairs.map((p) => p[1])) : null,
      ratio: ratios.length ? median(ratios) : null,
      ratioRange: ratios.length ? [Math.min(...ratios), Math.max(...ratios)] : null,
    };
  });
}

const baseRef = process.argv[2];
if (!baseRef) {
  console.error('usage: node bench/compare.ts <base-ref>   (e.g. a commit before the change)');
  process.exit(2);
}
const head = resolve(import.meta.dirname, '..');
const base = checkoutBase(head, baseRef);
const restore = keepResults(head);
const loadBefore = loadavg()[0]!;
let rows: ReturnType<typeof summarise>;
try {
  rows = summarise(runRounds(head, base));
} finally {
  restore();
  git(head, 'worktree', 'remove', '--force', base);
}
const loadAfter = loadavg()[0]!;
const about = {
  base: git(head, 'rev-parse', '--short', `${baseRef}^{commit}`),
  head:
    git(head, 'rev-parse', '--short', 'HEAD') +
    (git(head, 'status', '--porcelain') ? ' (with uncommitted changes)' : ''),
  rounds: roundsCount,
  loadAverage1m: [loadBefore, loadAfter].map((l) => Number(l.toFixed(2))),
};
mkdirSync(join(head, 'bench/results'), { recursive: true });
writeFileSync(join(head, 'bench/results/compare.json'), `${JSON.stringify({ ...about, rows }, null, 2)}\n`);
const fmt = (n: number | null | undefined, digits = 3) => (n == null ? 'n/a' : String(Number(n.toFixed(digits))));
const md = [
  '# Side-by-side benchmark',
  '',
  `\`node bench/compare.ts ${baseRef}\`: base ${about.base} against ${about.head}, ${roundsCount} rounds, each bench`,
  `once per tree per round, alternating which runs first. 1-minute load average ${about.loadAverage1m.join(' → ')}.`,
  'Ratio is new / base, the median of the per-round ratios, with their range.',
  '',
  '| Bench | Metric | Better | Base | New | Ratio | Range |',
  '| --- | --- | --- | ---: | ---: | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.bench} | ${r.metric} | ${r.better} | ${fmt(r.base)} | ${fmt(r.head)} | ${fmt(r.ratio)} | ` +
      `${r.ratioRange ? `${fmt(r.ratioRange[0])}–${fmt(r.ratioRange[1])}` : 'n/a'} |`,
  ),
  '',
].join('\n');
writeFileSync(join(head, 'bench/results/compare.md'), md);
console.log(md);
