// Mutation check for the Solidity suites: every known mutant in contracts/mutants.json must make `forge test` fail.
//
//   node contracts/mutants.ts [--only id,id] [--match-path GLOB] [--contracts DIR] [--jobs N] [--keep]
//
// It checks first that every mutant's original text occurs exactly once in its file (else it stops). It copies
// contracts/ (or --contracts DIR) into a temporary directory per job, beside a symlink to the repo's node_modules
// (foundry.toml resolves ../node_modules), and runs the unmutated code once (it must pass). Then, for each mutant, a
// job writes the replacement into its file, runs `forge test` in the default profile restricted to the mutant's
// `tests` (or --match-path), and restores the file. A mutant is caught when a test fails. A job's copy is reused
// from one mutant to the next so that forge recompiles only what each mutant touches; invariant and fuzz failure
// records are cleared before every run so that no mutant replays another's counterexample. --jobs N (default 1) runs
// N copies side by side: compiling (solcjs, one core per job) dominates each mutant's time, so it compiles only the
// matched tests (sparse mode) without the optimizer, and forge stops at the first failing test (--fail-fast).
// Prints a table (mutant, caught/SURVIVED/ERROR, seconds, what failed); exits 1 if the unmutated code fails, a
// mutant does not compile, or any mutant survives.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface Mutant {
  id: string;
  /** Relative to contracts/. */
  file: string;
  original: string;
  replacement: string;
  breaks: string;
  /** Test files (relative to contracts/) that must catch it; they become one --match-path glob. */
  tests: string[];
}

interface RunResult {
  /** Undefined when forge printed no test results (e.g. a compile error). */
  failed: string[] | undefined;
  seconds: number;
  stderr: string;
}

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'node_modules', '.bin');

const { values: options } = parseArgs({
  options: {
    only: { type: 'string' },
    'match-path': { type: 'string' },
    contracts: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});

function loadMutants(): Mutant[] {
  const list = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'mutants.json'), 'utf8')) as {
    mutants: Mutant[];
  };
  const only = options.only?.split(',');
  const mutants = only ? list.mutants.filter((mutant) => only.includes(mutant.id)) : list.mutants;
  if (mutants.length === 0) throw new Error(`no mutant matches --only ${options.only}`);
  return mutants;
}

/** Stops before any run when a mutant's original text does not occur exactly once in its file. */
function checkOriginals(source: string, mutants: Mutant[]): void {
  const problems = mutants.flatMap((mutant) => {
    const text = fs.readFileSync(path.join(source, mutant.file), 'utf8');
    const count = text.split(mutant.original).length - 1;
    return count === 1
      ? []
      : [`${mutant.id}: the original text occurs ${count} times in ${mutant.file}, expected once`];
  });
  if (problems.length > 0) throw new Error(`mutants that do not apply:\n  ${problems.join('\n  ')}`);
}

function matchPathOf(tests: string[]): string {
  if (options['match-path']) return options['match-path'];
  return tests.length === 1 ? tests[0]! : `{${tests.join(',')}}`;
}

/** Copies the contracts (sources and tests, no build output) next to a node_modules symlink. */
function makeWorkspace(source: string): string {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'perdiem-mutants-'));
  fs.cpSync(source, path.join(workspace, 'contracts'), {
    recursive: true,
    filter: (from) => !['out', 'cache'].includes(path.relative(source, from).split(path.sep)[0] ?? ''),
  });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(workspace, 'node_modules'));
  return path.join(workspace, 'contracts');
}

interface ForgeTestResult {
  status: string;
  reason: string | null;
}

/** Runs forge test in the default profile; returns the failed tests as "Contract.test: reason". */
async function forgeTest(contractsDir: string, matchPath: string, failFast = false): Promise<RunResult> {
  fs.rmSync(path.join(contractsDir, 'cache', 'invariant'), { recursive: true, force: true });
  fs.rmSync(path.join(contractsDir, 'cache', 'fuzz'), { recursive: true, force: true });
  const started = performance.now();
  const args = ['test', '--json', '--match-path', matchPath, ...(failFast ? ['--fail-fast'] : [])];
  const child = spawn(path.join(bin, 'forge'), args, {
    cwd: contractsDir,
    env: {
      ...process.env,
      FOUNDRY_PROFILE: 'default',
      // Compiling (solcjs) dominates a mutant's time: compile only the matched tests and what they import, and without
      // the optimizer, which changes gas but not behaviour (the gas snapshot is checked elsewhere).
      FOUNDRY_SPARSE_MODE: 'true',
      FOUNDRY_OPTIMIZER: 'false',
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  await new Promise((resolve, reject) => child.on('error', reject).on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const json = stdout
    .split('\n')
    .reverse()
    .find((line) => line.startsWith('{'));
  if (!json) return { failed: undefined, seconds, stderr };
  const suites = JSON.parse(json) as Record<string, { test_results: Record<string, ForgeTestResult> }>;
  const failed: string[] = [];
  for (const [suite, { test_results }] of Object.entries(suites)) {
    for (const [test, outcome] of Object.entries(test_results)) {
      if (outcome.status === 'Success') continue;
      const contract = suite.split(':').pop();
      failed.push(`${contract}.${test.replace('()', '')}: ${shortReason(outcome.reason)}`);
    }
  }
  return { failed, seconds, stderr };
}

/** The invariant suite's reason lists every broken check as "[check: figures]"; keep the check names. */
function shortReason(reason: string | null): string {
  if (!reason) return 'failed';
  const checks = [...reason.matchAll(/\[([^:\]]+):/g)].map((match) => match[1]);
  return checks.length > 0 ? checks.join('; ') : reason.split('\n')[0]!.slice(0, 120);
}

function applyMutant(contractsDir: string, mutant: Mutant): () => void {
  const file = path.join(contractsDir, mutant.file);
  const source = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(
    file,
    source.replace(mutant.original, () => mutant.replacement),
  );
  return () => fs.writeFileSync(file, source);
}

interface Row {
  id: string;
  outcome: 'caught' | 'SURVIVED' | 'ERROR';
  seconds: number;
  detail: string[];
}

async function runMutant(contractsDir: string, mutant: Mutant): Promise<Row> {
  const restore = applyMutant(contractsDir, mutant);
  try {
    // One failing test catches a mutant: forge stops at the first, rather than running every invariant campaign.
    const run = await forgeTest(contractsDir, matchPathOf(mutant.tests), true);
    if (run.failed === undefined) {
      return { id: mutant.id, outcome: 'ERROR', seconds: run.seconds, detail: [run.stderr.trim().slice(0, 2000)] };
    }
    const outcome = run.failed.length > 0 ? 'caught' : 'SURVIVED';
    return {
      id: mutant.id,
      outcome,
      seconds: run.seconds,
      detail: outcome === 'caught' ? run.failed : [mutant.breaks],
    };
  } finally {
    restore();
  }
}

function printTable(rows: Row[]): void {
  const width = Math.max(...rows.map((row) => row.id.length), 'mutant'.length);
  console.log(`\n${'mutant'.padEnd(width)}  result    seconds`);
  for (const row of rows) {
    console.log(`${row.id.padEnd(width)}  ${row.outcome.padEnd(8)}  ${row.seconds.toFixed(1).padStart(7)}`);
  }
  console.log('\nwhat failed (caught), or what the mutant breaks (survived):');
  for (const row of rows) {
    console.log(`  ${row.id}`);
    for (const line of row.detail) console.log(`    ${line}`);
  }
}

/** Runs the unmutated suites; false (after printing why) when they do not pass. */
async function baselinePasses(contractsDir: string, mutants: Mutant[]): Promise<boolean> {
  const matchPath = matchPathOf([...new Set(mutants.flatMap((mutant) => mutant.tests))]);
  const baseline = await forgeTest(contractsDir, matchPath);
  const line = `unmutated (${matchPath}): ${baseline.seconds.toFixed(1)} s`;
  if (baseline.failed !== undefined && baseline.failed.length === 0) {
    console.log(`${line}, passed`);
    return true;
  }
  console.error(`${line}, FAILED`);
  console.error(baseline.failed?.join('\n') ?? baseline.stderr);
  return false;
}

async function main(): Promise<number> {
  const started = performance.now();
  const mutants = loadMutants();
  const source = path.resolve(options.contracts ?? path.join(root, 'contracts'));
  checkOriginals(source, mutants);
  const jobs = Math.max(1, Math.min(Number.parseInt(options.jobs, 10) || 1, mutants.length));
  const workspaces = Array.from({ length: jobs }, () => makeWorkspace(source));
  try {
    const rows: Row[] = [];
    const queue = [...mutants];
    const work = async (contractsDir: string) => {
      for (let mutant = queue.shift(); mutant; mutant = queue.shift()) {
        const row = await runMutant(contractsDir, mutant);
        console.log(`${row.id}: ${row.outcome} (${row.seconds.toFixed(1)} s)`);
        rows.push(row);
      }
    };
    // The first copy runs the unmutated code while the others start on mutants; it joins them once that passed.
    const [first, ...others] = workspaces as [string, ...string[]];
    const [baselineOk] = await Promise.all([
      baselinePasses(first, mutants).then(async (ok) => {
        if (ok) await work(first);
        else queue.length = 0;
        return ok;
      }),
      ...others.map(work),
    ]);
    if (!baselineOk) return 1;
    rows.sort((a, b) => mutants.findIndex((m) => m.id === a.id) - mutants.findIndex((m) => m.id === b.id));
    printTable(rows);
    const total = (performance.now() - started) / 1000;
    const bad = rows.filter((row) => row.outcome !== 'caught');
    console.log(
      `\n${rows.length - bad.length}/${rows.length} mutants caught in ${total.toFixed(1)} s with ${jobs} job(s) (total, baseline included)`,
    );
    return bad.length === 0 ? 0 : 1;
  } finally {
    for (const contractsDir of workspaces) {
      if (options.keep) console.log(`kept ${contractsDir}`);
      else fs.rmSync(path.dirname(contractsDir), { recursive: true, force: true });
    }
  }
}

process.exitCode = await main();
