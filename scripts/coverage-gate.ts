// The coverage gate's rules, kept pure: parse an lcov report and judge each required file against a minimum.
// scripts/contracts-coverage.ts runs forge and feeds this module.

/** Line and branch counts for one source file, from an lcov record (SF … end_of_record). */
export interface FileCoverage {
  file: string;
  linesFound: number;
  linesHit: number;
  branchesFound: number;
  branchesHit: number;
  /** Lines that never ran (DA with 0 hits). */
  uncoveredLines: number[];
  /** Lines of branches never taken (BRDA with '-' or 0), one entry per branch. */
  uncoveredBranchLines: number[];
}

/** Parses an lcov report. Counts come from the DA and BRDA entries; LF/LH/BRF/BRH must agree with them. */
export function parseLcov(text: string): FileCoverage[] {
  const files: FileCoverage[] = [];
  let current: FileCoverage | undefined;
  const summary = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (tag === 'SF') {
      current = {
        file: value,
        linesFound: 0,
        linesHit: 0,
        branchesFound: 0,
        branchesHit: 0,
        uncoveredLines: [],
        uncoveredBranchLines: [],
      };
      summary.clear();
    } else if (tag === 'end_of_record') {
      if (!current) throw new Error('lcov: end_of_record without SF');
      checkSummary(current, summary);
      files.push(current);
      current = undefined;
    } else if (current && tag === 'DA') {
      const [lineNumber, hits] = value.split(',');
      current.linesFound++;
      if (Number(hits) > 0) current.linesHit++;
      else current.uncoveredLines.push(Number(lineNumber));
    } else if (current && tag === 'BRDA') {
      const [lineNumber, , , taken] = value.split(',');
      current.branchesFound++;
      if (taken !== '-' && Number(taken) > 0) current.branchesHit++;
      else current.uncoveredBranchLines.push(Number(lineNumber));
    } else if (current && (tag === 'LF' || tag === 'LH' || tag === 'BRF' || tag === 'BRH')) {
      summary.set(tag, Number(value));
    }
  }
  if (current) throw new Error(`lcov: record for ${current.file} has no end_of_record`);
  return files;
}

function checkSummary(file: FileCoverage, summary: Map<string, number>) {
  const expected: Record<string, number> = {
    LF: file.linesFound,
    LH: file.linesHit,
    BRF: file.branchesFound,
    BRH: file.branchesHit,
  };
  for (const [tag, count] of summary) {
    if (count !== expected[tag]) {
      throw new Error(`lcov: ${file.file} says ${tag}:${count} but its entries count ${expected[tag]}`);
    }
  }
}

/** One required file's verdict. A file with nothing to cover (0 lines or 0 branches) passes that measure. */
export interface FileVerdict {
  file: string;
  coverage: FileCoverage | undefined;
  failures: string[];
}

/**
 * Judges each required file: it must be in the report with at least `percentMin` of its lines and of its branches
 * hit. Compared in integers (hit × 100 ≥ min × found), so 95% of 19 lines needs 19, not 18.05 rounded.
 */
export function judgeCoverage(report: FileCoverage[], requiredFiles: string[], percentMin: number): FileVerdict[] {
  const byFile = new Map(report.map((entry) => [entry.file, entry]));
  return requiredFiles.map((file) => {
    const coverage = byFile.get(file);
    const failures: string[] = [];
    if (!coverage) {
      failures.push('missing from the coverage report');
    } else {
      if (coverage.linesHit * 100 < percentMin * coverage.linesFound) {
        failures.push(`lines ${formatPercent(coverage.linesHit, coverage.linesFound)} < ${percentMin}%`);
      }
      if (coverage.branchesHit * 100 < percentMin * coverage.branchesFound) {
        failures.push(`branches ${formatPercent(coverage.branchesHit, coverage.branchesFound)} < ${percentMin}%`);
      }
    }
    return { file, coverage, failures };
  });
}

/** "97.50%", truncated (never rounded up past the real figure); "n/a" when there is nothing to cover. */
export function formatPercent(hit: number, found: number): string {
  if (found === 0) return 'n/a';
  const hundredths = Math.floor((hit * 10_000) / found);
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}%`;
}

/** Forge output lines that mean the run went wrong even if it exited 0 (solar and solc errors, forge's own). */
export function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => /^(Error|error)(:|\[| \(\d+\))/.test(line));
}
