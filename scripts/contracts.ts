// Runs forge in contracts/ with the npm-installed toolchain (forge binary + the solcjs wrapper).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const verbs: Record<string, string[]> = {
  build: ['build'],
  test: ['test'],
  snapshot: ['snapshot'],
  'snapshot-check': ['snapshot', '--check'],
};

const verb = process.argv[2] ?? 'build';
const forgeArgs = verbs[verb];
if (!forgeArgs) {
  console.error(`usage: contracts.ts ${Object.keys(verbs).join('|')} [forge args…]`);
  process.exit(2);
}
const bin = path.join(root, 'node_modules', '.bin');
const result = spawnSync(path.join(bin, 'forge'), [...forgeArgs, ...process.argv.slice(3)], {
  cwd: path.join(root, 'contracts'),
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
});
process.exit(result.status ?? 1);
