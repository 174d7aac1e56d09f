// Adds up the forge and vitest results into one closing line: "N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const [forgeLog, vitestLog] = process.argv.slice(2).map((file) => readFileSync(file, 'utf8'));

function forgeCounts(log: string) {
  const match = /(\d+) tests passed, (\d+) failed, (\d+) skipped/.exec(log);
  return match ? { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3]) } : undefined;
}

function vitestCounts(log: string) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const line = log.replace(/\x1b\[[0-9;]*m/g, '').match(/^\s*Tests\s+(.*)$/m)?.[1];
  if (!line) return undefined;
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') + count('todo') };
}

const parts = [forgeCounts(forgeLog ?? ''), vitestCounts(vitestLog ?? '')];
if (parts.some((part) => part === undefined)) {
  console.error('test-summary: could not read the forge or vitest result line');
  process.exit(1);
}
const total = { passed: 0, failed: 0, skipped: 0 };
for (const part of parts) {
  total.passed += part!.passed;
  total.failed += part!.failed;
  total.skipped += part!.skipped;
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
