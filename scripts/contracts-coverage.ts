// The Solidity coverage gate: runs `forge coverage` (profile `coverage` unless FOUNDRY_PROFILE says otherwise) and
// fails unless every contract under contracts/src/ (interfaces excluded) has at least coveragePercentMin of its
// lines and of its branches covered. It also fails when forge exits non-zero, prints an error, or writes no report.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorLines, type FileVerdict, formatPercent, judgeCoverage, parseLcov } from './coverage-gate.ts';

/** Per file, for lines and for branches. */
const coveragePercentMin = 95;
/** Forge output shown when the run itself failed. */
const failureOutputLinesMax = 60;
/** Uncovered line numbers listed per file. */
const uncoveredLinesShownMax = 20;

const root = path.resolve(import.meta.dirname, '..');
const contractsDir = path.join(root, 'contracts');
/** Relative to contracts/ (forge resolves --report-file against the project root); cache/ is git-ignored. */
const reportFile = path.join('cache', 'lcov.info');

/** Every .sol file under contracts/src/ except interfaces, as forge names them (src/…, forward slashes). */
function requiredFiles(dir = 'src'): string[] {
  return readdirSync(path.join(contractsDir, dir))
    .sort()
    .flatMap((name) => {
      const relative = `${dir}/${name}`;
      if (statSync(path.join(contractsDir, relative)).isDirectory()) {
        return relative === 'src/interfaces' ? [] : requiredFiles(relative);
      }
      return name.endsWith('.sol') ? [relative] : [];
    });
}

/** Runs forge coverage through scripts/contracts.ts (which passes forge's exit status on) and collects its output. */
function runForgeCoverage(): Promise<{ status: number; output: string }> {
  const child = spawn(
    process.execPath,
    [path.join(root, 'scripts', 'contracts.ts'), 'coverage', '--report', 'lcov', '--report-file', reportFile],
    {
      env: { ...process.env, FOUNDRY_PROFILE: process.env.FOUNDRY_PROFILE ?? 'coverage' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ status: code ?? (signal ? 1 : 0), output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

function listLines(lineNumbers: number[]): string {
  const shown = lineNumbers.slice(0, uncoveredLinesShownMax).join(', ');
  const more = lineNumbers.length - uncoveredLinesShownMax;
  return more > 0 ? `${shown} … (${more} more)` : shown;
}

function printTable(verdicts: FileVerdict[]) {
  const width = Math.max(...verdicts.map((verdict) => verdict.file.length));
  console.log(`${'file'.padEnd(width)}  ${'lines'.padStart(17)}  ${'branches'.padStart(15)}  verdict`);
  for (const { file, coverage, failures } of verdicts) {
    const lines = coverage
      ? `${formatPercent(coverage.linesHit, coverage.linesFound)} (${coverage.linesHit}/${coverage.linesFound})`
      : '-';
    const branches = coverage
      ? `${formatPercent(coverage.branchesHit, coverage.branchesFound)} (${coverage.branchesHit}/${coverage.branchesFound})`
      : '-';
    console.log(
      `${file.padEnd(width)}  ${lines.padStart(17)}  ${branches.padStart(15)}  ${failures.length ? `FAIL: ${failures.join('; ')}` : 'ok'}`,
    );
    if (coverage?.uncoveredLines.length) console.log(`  uncovered lines: ${listLines(coverage.uncoveredLines)}`);
    if (coverage?.uncoveredBranchLines.length) {
      console.log(`  untaken branches at lines: ${listLines(coverage.uncoveredBranchLines)}`);
    }
  }
}

function fail(message: string, output?: string): never {
  if (output) console.log(output.trimEnd().split('\n').slice(-failureOutputLinesMax).join('\n'));
  console.log(`coverage gate: FAIL: ${message}`);
  process.exit(1);
}

const reportPath = path.join(contractsDir, reportFile);
// A report left by an earlier run must never be read as this run's; forge does not create the folder itself.
rmSync(reportPath, { force: true });
mkdirSync(path.dirname(reportPath), { recursive: true });
const required = requiredFiles();
if (required.length === 0) fail('found no contracts under contracts/src/');

const startedMs = Date.now();
const { status, output } = await runForgeCoverage();
const elapsedSeconds = Math.round((Date.now() - startedMs) / 1000);
if (status !== 0) fail(`forge coverage exited ${status}`, output);
const errors = errorLines(output);
if (errors.length > 0) fail(`forge coverage printed ${errors.length} error line(s): ${errors[0]}`, output);
if (!existsSync(reportPath)) fail(`forge coverage wrote no report at contracts/${reportFile}`, output);

let report: ReturnType<typeof parseLcov>;
try {
  report = parseLcov(readFileSync(reportPath, 'utf8'));
} catch (error) {
  fail(`unreadable report contracts/${reportFile}: ${(error as Error).message}`);
}
const requiredLines = report.filter((file) => required.includes(file.file)).reduce((sum, f) => sum + f.linesFound, 0);
if (requiredLines === 0) fail(`the report contracts/${reportFile} counts no lines in contracts/src/`, output);

const verdicts = judgeCoverage(report, required, coveragePercentMin);
printTable(verdicts);
const failed = verdicts.filter((verdict) => verdict.failures.length > 0);
const summary = `${verdicts.length - failed.length}/${verdicts.length} files at >= ${coveragePercentMin}% lines and branches (forge coverage ${elapsedSeconds}s, report contracts/${reportFile})`;
if (failed.length > 0) fail(summary);
console.log(`coverage gate: ok: ${summary}`);
