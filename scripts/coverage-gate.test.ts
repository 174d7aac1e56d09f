import { describe, expect, it } from 'vitest';
import { errorLines, formatPercent, judgeCoverage, parseLcov } from './coverage-gate.ts';

// The shape forge coverage --report lcov writes (forge 1.7): DA per line, BRDA per branch, then the summary counts.
const vvvRecord = [
  'TN:',
  'SF:src/VVV.sol',
  'DA:22,55',
  'FN:22,VVV.constructor',
  'FNDA:55,VVV.constructor',
  'DA:27,55',
  'BRDA:27,0,0,1',
  'DA:28,0',
  'BRDA:33,1,0,-',
  'BRDA:34,2,0,0',
  'FNF:1',
  'FNH:1',
  'LF:3',
  'LH:2',
  'BRF:3',
  'BRH:1',
  'end_of_record',
].join('\n');

function coverage(file: string, linesHit: number, linesFound: number, branchesHit: number, branchesFound: number) {
  return { file, linesHit, linesFound, branchesHit, branchesFound, uncoveredLines: [], uncoveredBranchLines: [] };
}

describe('parseLcov', () => {
  it('counts lines and branches from DA and BRDA, listing what never ran', () => {
    expect(parseLcov(vvvRecord)).toEqual([
      {
        file: 'src/VVV.sol',
        linesFound: 3,
        linesHit: 2,
        branchesFound: 3,
        branchesHit: 1,
        uncoveredLines: [28],
        uncoveredBranchLines: [33, 34],
      },
    ]);
  });

  it('reads several records', () => {
    const second = vvvRecord.replace('src/VVV.sol', 'src/Diem.sol');
    expect(parseLcov(`${vvvRecord}\n${second}\n`).map((file) => file.file)).toEqual(['src/VVV.sol', 'src/Diem.sol']);
  });

  it('rejects a record whose summary disagrees with its entries', () => {
    expect(() => parseLcov(vvvRecord.replace('LH:2', 'LH:3'))).toThrow(/LH:3 but its entries count 2/);
  });

  it('rejects a truncated report', () => {
    expect(() => parseLcov(vvvRecord.replace('end_of_record', ''))).toThrow(/no end_of_record/);
  });

  it('reads an empty report as no files', () => {
    expect(parseLcov('')).toEqual([]);
  });
});

describe('judgeCoverage', () => {
  it('passes files at or above the minimum for both lines and branches', () => {
    const verdicts = judgeCoverage([coverage('src/A.sol', 19, 20, 20, 20)], ['src/A.sol'], 95);
    expect(verdicts[0]!.failures).toEqual([]);
  });

  it('fails a file below the minimum on lines', () => {
    const [verdict] = judgeCoverage([coverage('src/A.sol', 18, 19, 4, 4)], ['src/A.sol'], 95);
    expect(verdict!.failures).toEqual(['lines 94.73% < 95%']);
  });

  it('fails a file below the minimum on branches even with every line covered', () => {
    const [verdict] = judgeCoverage([coverage('src/A.sol', 10, 10, 3, 4)], ['src/A.sol'], 95);
    expect(verdict!.failures).toEqual(['branches 75.00% < 95%']);
  });

  it('fails a required file the report does not contain', () => {
    const [verdict] = judgeCoverage([coverage('src/A.sol', 1, 1, 0, 0)], ['src/B.sol'], 95);
    expect(verdict!.failures).toEqual(['missing from the coverage report']);
  });

  it('passes a measure with nothing to cover', () => {
    const [verdict] = judgeCoverage([coverage('src/A.sol', 5, 5, 0, 0)], ['src/A.sol'], 95);
    expect(verdict!.failures).toEqual([]);
  });

  it('judges each file on its own: a well-covered file does not carry a poorly covered one', () => {
    const report = [coverage('src/Big.sol', 1000, 1000, 100, 100), coverage('src/Small.sol', 5, 10, 1, 1)];
    const verdicts = judgeCoverage(report, ['src/Big.sol', 'src/Small.sol'], 95);
    expect(verdicts.map((verdict) => verdict.failures.length)).toEqual([0, 1]);
  });
});

describe('formatPercent', () => {
  it('truncates instead of rounding up', () => {
    expect(formatPercent(18, 19)).toBe('94.73%');
    expect(formatPercent(1999, 2000)).toBe('99.95%');
    expect(formatPercent(19999, 20000)).toBe('99.99%');
  });

  it('says n/a when there is nothing to cover', () => {
    expect(formatPercent(0, 0)).toBe('n/a');
  });
});

describe('errorLines', () => {
  it('finds forge, solar and solc errors', () => {
    const output = [
      'Analysing contracts...',
      'Error: solar run failed:',
      'error: file ./IERC20.sol not found',
      'Error (7576): Undeclared identifier.',
      'error[7576]: Undeclared identifier.',
    ].join('\n');
    expect(errorLines(output)).toHaveLength(4);
  });

  it('ignores warnings and test names that mention errors', () => {
    const output = [
      'Warning (8760): This declaration has the same name as another declaration.',
      '[PASS] test_mint_notMinterReverts() (gas: 11360)',
      '  [PASS] test_errorPath()',
      '| src/Errors.sol | 100.00% (1/1) |',
    ].join('\n');
    expect(errorLines(output)).toEqual([]);
  });
});
