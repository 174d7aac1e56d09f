/**
 * Writes the perdiem demo GGUF (random weights, not a real model) so a fresh machine can serve a model offline.
 * Usage: node scripts/gen-demo-gguf.ts [--out <path>]   (default .perdiem/models/perdiem-demo.gguf)
 */
import { parseArgs } from 'node:util';
import { demoModelPathDefault, writeDemoModel } from '../src/gateway/providers/llama/demoModel.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: demoModelPathDefault } } });
const result = await writeDemoModel(values.out);
const verb = result.written ? 'wrote' : 'unchanged';
console.log(`${verb} ${result.path} (${result.bytes} bytes, sha256 ${result.sha256})`);
