/**
 * Writes the perdiem demo GGUF (random weights, not a real model) so a fresh machine can serve a model offline.
 * Usage: node scripts/gen-demo-gguf.ts [--size small|medium|large] [--out <path>]
 *   (default small, at .perdiem/models/perdiem-demo.gguf; other sizes at .perdiem/models/perdiem-demo-<size>.gguf)
 * The larger sizes cost more compute per token (for measuring, see src/gateway/compute); they are as random.
 */
import { parseArgs } from 'node:util';
import {
  type DemoModelSize,
  demoModelMacsPerToken,
  demoModelPathDefault,
  demoModelShapes,
  writeDemoModel,
} from '../src/gateway/providers/llama/demoModel.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, size: { type: 'string', default: 'small' } } });
if (!Object.hasOwn(demoModelShapes, values.size)) {
  console.error(`--size must be one of ${Object.keys(demoModelShapes).join(', ')}`);
  process.exit(2);
}
const size = values.size as DemoModelSize;
const shape = demoModelShapes[size];
const out =
  values.out ?? (size === 'small' ? demoModelPathDefault : demoModelPathDefault.replace(/\.gguf$/, `-${size}.gguf`));
const result = await writeDemoModel(out, shape);
const verb = result.written ? 'wrote' : 'unchanged';
const macs = demoModelMacsPerToken(shape);
console.log(
  `${verb} ${result.path} (${size}, ${macs} multiply-adds per token, ${result.bytes} bytes, sha256 ${result.sha256})`,
);
