import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoModelFile,
  demoModelMacsPerToken,
  demoModelName,
  demoModelShape,
  demoModelShapes,
  demoVocabulary,
  encodeDemoModel,
  writeDemoModel,
} from './demoModel.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '../../../..');

// Loading runs in a child process: a malformed GGUF aborts llama.cpp natively, which would kill the test runner.
// The script is a file, not `node -e`: node-llama-cpp forks a binary self-test that inherits execArgv.
const loadAndGenerate = `
import { getLlama, LlamaCompletion } from '${import.meta.resolve('node-llama-cpp')}';
const llama = await getLlama({ build: 'never', gpu: false });
const model = await llama.loadModel({ modelPath: process.argv[2] });
const context = await model.createContext({ threads: 1, contextSize: 256 });
const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
const first = await completion.generateCompletion('Hello, world', { maxTokens: 24, temperature: 0 });
const second = await completion.generateCompletion('Hello, world', { maxTokens: 24, temperature: 0 });
console.log(JSON.stringify({ first, second, embedding: model.embeddingVectorSize }));
`;

describe('demo GGUF', () => {
  let directory: string;
  let modelPath: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-demo-'));
    modelPath = join(directory, 'models', 'perdiem-demo.gguf');
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('is byte-identical for the same seed', () => {
    expect(encodeDemoModel().equals(encodeDemoModel())).toBe(true);
    expect(encodeDemoModel().equals(encodeDemoModel({ ...demoModelShape, seed: 1 }))).toBe(false);
  });

  it('the CLI writes the file once and then leaves it untouched (same content hash)', async () => {
    const first = await run(process.execPath, ['scripts/gen-demo-gguf.ts', '--out', modelPath], { cwd: repoRoot });
    expect(first.stdout).toMatch(/^wrote /);
    const { mtimeMs } = await stat(modelPath);
    const second = await writeDemoModel(modelPath);
    expect(second.written).toBe(false);
    expect((await stat(modelPath)).mtimeMs).toBe(mtimeMs);
    expect((await readFile(modelPath)).equals(encodeDemoModel())).toBe(true);
  });

  it('carries the 9 required metadata keys and a clear demo label', async () => {
    await writeDemoModel(modelPath);
    const info = await readGgufFileInfo(modelPath, { sourceType: 'filesystem', logWarnings: false });
    const raw = info.metadata as unknown as Record<string, Record<string, unknown>>;
    const get = (key: string) => key.split('.').reduce<unknown>((node, part) => (node as never)?.[part], raw);
    for (const key of [
      'general.architecture',
      'llama.context_length',
      'llama.embedding_length',
      'llama.block_count',
      'llama.feed_forward_length',
      'llama.attention.head_count',
      'llama.attention.layer_norm_rms_epsilon',
      'tokenizer.ggml.model',
      'tokenizer.ggml.tokens',
    ]) {
      expect(get(key), key).toBeDefined();
    }
    expect(get('general.name')).toBe(demoModelName);
    expect(get('llama.embedding_length')).toBe(demoModelShape.embeddingLength);
    expect((get('tokenizer.ggml.tokens') as string[]).length).toBe(demoVocabulary().tokens.length);
  });

  it('loads in node-llama-cpp, generates, and is deterministic at temperature 0 (child process)', async () => {
    await writeDemoModel(modelPath);
    const script = join(directory, 'load.mjs');
    await writeFile(script, loadAndGenerate);
    const { stdout } = await run(process.execPath, [script, modelPath], { cwd: repoRoot });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(result.first.length).toBeGreaterThan(0);
    expect(result.second).toBe(result.first);
    expect(result.embedding).toBe(demoModelShape.embeddingLength);
  });
});

describe('demo GGUF sizes', () => {
  it('grow in multiply-adds per token, and repeat their first blocks’ weights past distinctBlocks', () => {
    const small = demoModelMacsPerToken(demoModelShapes.small);
    const medium = demoModelMacsPerToken(demoModelShapes.medium);
    const large = demoModelMacsPerToken(demoModelShapes.large);
    expect(small).toBeLessThan(medium);
    expect(large / medium).toBeGreaterThan(3);
    const file = demoModelFile(demoModelShapes.large);
    const named = new Map(file.tensors.map((tensor) => [tensor.name, tensor.data]));
    expect(named.get('blk.3.ffn_up.weight')).toEqual(named.get('blk.0.ffn_up.weight'));
    expect(file.tensors.filter((tensor) => tensor.name.startsWith('blk.')).length).toBe(
      demoModelShapes.large.blockCount * 9,
    );
  });

  it('the default (small) file is unchanged by the size option', () => {
    expect(encodeDemoModel().equals(encodeDemoModel(demoModelShapes.small))).toBe(true);
  });
});
