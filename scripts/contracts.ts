// Runs forge in contracts/ with the npm-installed toolchain (forge binary + the solcjs wrapper).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const verbs: Record<string, string[]> = {
  build: ['build'],
  test: ['test'],
  coverage: ['coverage'],
  snapshot: ['snapshot'],
  'snapshot-check': ['snapshot', '--check'],
};

/**
 * The native forge binary shipped in the platform package. The npm launcher (`node_modules/.bin/forge`, i.e.
 * @foundry-rs/forge/bin.mjs) does not pass the binary's exit status on: through it a failing build, test or
 * snapshot check exits 0.
 */
function forgeBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const binary = process.platform === 'win32' ? 'forge.exe' : 'forge';
  return require.resolve(`@foundry-rs/forge-${process.platform}-${arch}/bin/${binary}`);
}

const verb = process.argv[2] ?? 'build';
const forgeArgs = verbs[verb];
if (!forgeArgs) {
  console.error(`usage: contracts.ts ${Object.keys(verbs).join('|')} [forge args…]`);
  process.exit(2);
}
const bin = path.join(root, 'node_modules', '.bin');
const result = spawnSync(forgeBinaryPath(), [...forgeArgs, ...process.argv.slice(3)], {
  cwd: path.join(root, 'contracts'),
  stdio: 'inherit',
  // solc = "./solc.cjs" runs under `node`: keep the project's Node first on PATH.
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
});
if (result.error) console.error(`contracts.ts: could not run forge: ${result.error.message}`);
process.exit(result.status ?? 1);
