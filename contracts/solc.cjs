#!/usr/bin/env node
// A native-solc stand-in for forge: wraps the npm `solc` package (solcjs) behind the two calls forge makes,
// `--version` and `--standard-json` (input on stdin, output on stdout). Imports that forge did not inline are
// resolved from the project root, the contracts folder and node_modules.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  // forge parses the "Version: x.y.z+commit..." line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write(`solc.cjs: only --version and --standard-json are supported, got: ${args.join(' ')}\n`);
  process.exit(2);
}

const roots = [process.cwd(), __dirname, path.join(__dirname, '..'), path.join(__dirname, '..', 'node_modules')];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[i + 1]);
  if (args[i] === '--allow-paths') roots.push(...args[i + 1].split(','));
}

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
// Debugging aid: SOLC_CJS_INPUT_LOG=<file> keeps the standard-json input forge sent (its `sources` keys are the
// source unit names, the paths import resolution works with).
if (process.env.SOLC_CJS_INPUT_LOG) fs.writeFileSync(process.env.SOLC_CJS_INPUT_LOG, input);
process.stdout.write(solc.compile(input, { import: findImports }));
