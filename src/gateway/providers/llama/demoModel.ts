/**
 * The perdiem demo model: a tiny llama-architecture GGUF with random weights from a fixed seed, so that a fresh
 * machine can serve a model offline. It is not a real model; its text is noise. Its shape is chosen to be fast on
 * one thread.
 *
 * One trick keeps its output readable: embedding dimension 0 is a constant that no layer writes to, so after the
 * final norm it acts as a bias input, and the output row of each token uses it to favour printable pieces and to
 * suppress control, non-ASCII byte and end-of-sequence tokens.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodeGguf, type GgufFile, type GgufTensor, type GgufValue } from './ggufWriter.ts';

export const demoModelName = 'perdiem-demo (random weights, not a real model)';
export const demoModelPathDefault = '.perdiem/models/perdiem-demo.gguf';

export interface DemoModelShape {
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  contextLength: number;
  seed: number;
  /**
   * Blocks with weights of their own; the blocks after them repeat these blocks' weights in turn. The engine still
   * computes every block, so a deep model costs its full compute while only these are drawn (generation stays
   * quick). Default: every block.
   */
  distinctBlocks?: number;
}

export const demoModelShape: DemoModelShape = {
  embeddingLength: 64,
  blockCount: 2,
  feedForwardLength: 128,
  headCount: 4,
  contextLength: 512,
  seed: 20_240_601,
};

/**
 * The demo model in sizes of clearly different compute, for measuring (gateway/compute): `small` is the default;
 * `medium` and `large` are wider and deeper (same vocabulary, same random-weight recipe, still not real models).
 */
export const demoModelShapes = {
  small: demoModelShape,
  medium: {
    ...demoModelShape,
    embeddingLength: 256,
    blockCount: 4,
    feedForwardLength: 704,
    headCount: 4,
    distinctBlocks: 1,
  },
  large: {
    ...demoModelShape,
    embeddingLength: 512,
    blockCount: 4,
    feedForwardLength: 1408,
    headCount: 8,
    distinctBlocks: 1,
  },
} as const satisfies Record<string, DemoModelShape>;

export type DemoModelSize = keyof typeof demoModelShapes;

/**
 * Multiply-adds per generated token, as the engine does them: per block the attention projections (4·n²) and the
 * gated feed-forward (3·n·ff), then the output projection (n·vocab). Attention over the context is left out: it is
 * small beside these at the short contexts the demo runs.
 */
export function demoModelMacsPerToken(shape: DemoModelShape): number {
  const n = shape.embeddingLength;
  const perBlock = 4 * n * n + 3 * n * shape.feedForwardLength;
  return shape.blockCount * perBlock + n * demoVocabulary().tokens.length;
}

/** SentencePiece token types, as numbered by llama.cpp. */
const tokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

const spaceMarker = '\u2581';
const commonPieces = ['the', 'and', 'of', 'to', 'in', 'is', 'per', 'diem', 'er', 'on', 'an', 'th', 're', 'at'];

export interface DemoVocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
  /** Output-logit bias per token, applied through the constant embedding dimension. */
  biases: number[];
  bosId: number;
  eosId: number;
  unknownId: number;
}

export function demoVocabulary(): DemoVocabulary {
  const vocab: DemoVocabulary = { tokens: [], scores: [], types: [], biases: [], bosId: 1, eosId: 2, unknownId: 0 };
  const add = (token: string, score: number, type: number, bias: number) => {
    vocab.tokens.push(token);
    vocab.scores.push(score);
    vocab.types.push(type);
    vocab.biases.push(bias);
  };
  add('<unk>', 0, tokenType.unknown, -8);
  add('<s>', 0, tokenType.control, -8);
  add('</s>', 0, tokenType.control, -8);
  for (let byte = 0; byte < 256; byte++) {
    const hex = byte.toString(16).toUpperCase().padStart(2, '0');
    add(`<0x${hex}>`, 0, tokenType.byte, byte === 0x0a ? 0 : -8);
  }
  add(spaceMarker, -1, tokenType.normal, 1);
  for (let code = 0x21; code <= 0x7e; code++) {
    const printable = String.fromCharCode(code);
    add(printable, -2, tokenType.normal, /[a-z]/.test(printable) ? 1 : 0);
  }
  // Longer pieces score higher, so SentencePiece merges them first.
  for (const piece of commonPieces) {
    add(piece, piece.length, tokenType.normal, 0);
    add(spaceMarker + piece, piece.length + 1, tokenType.normal, 0);
  }
  return vocab;
}

/** mulberry32: a small, fixed, well-mixed PRNG so the weights depend on the seed only. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function createGaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), Number.MIN_VALUE);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/**
 * A weight matrix in ggml order: `rows` rows of `columns` contiguous values; y = W x maps columns → rows.
 * Row 0 is zeroed when `keepBiasDimension` is set, so the layer never writes to the bias dimension.
 */
function matrix(
  gaussian: () => number,
  name: string,
  columns: number,
  rows: number,
  std: number,
  keepBiasDimension = false,
): GgufTensor {
  const data = new Float32Array(columns * rows);
  for (let i = 0; i < data.length; i++) data[i] = gaussian() * std;
  if (keepBiasDimension) data.fill(0, 0, columns);
  return { name, dims: [columns, rows], data };
}

function ones(name: string, length: number): GgufTensor {
  return { name, dims: [length], data: new Float32Array(length).fill(1) };
}

const biasInput = 3;
/** token_embd, output_norm and output come first, then each block's 9 tensors. */
const headTensorCount = 3;
const tensorsPerBlock = 9;

function demoTensors(shape: DemoModelShape, vocab: DemoVocabulary): GgufTensor[] {
  const gaussian = createGaussian(createRandom(shape.seed));
  const n = shape.embeddingLength;
  const ff = shape.feedForwardLength;
  const vocabSize = vocab.tokens.length;

  const embeddings = matrix(gaussian, 'token_embd.weight', n, vocabSize, 1);
  for (let token = 0; token < vocabSize; token++) embeddings.data[token * n] = biasInput;

  const output = matrix(gaussian, 'output.weight', n, vocabSize, 0.6);
  for (let token = 0; token < vocabSize; token++) output.data[token * n] = vocab.biases[token] ?? 0;

  const tensors: GgufTensor[] = [embeddings, ones('output_norm.weight', n), output];
  const attentionStd = 1 / Math.sqrt(n);
  const distinct = Math.min(shape.distinctBlocks ?? shape.blockCount, shape.blockCount);
  for (let block = 0; block < shape.blockCount; block++) {
    const prefix = `blk.${block}`;
    if (block >= distinct) {
      // A repeat: the same data under this block's names.
      const first = headTensorCount + (block % distinct) * tensorsPerBlock;
      const source = tensors.slice(first, first + tensorsPerBlock);
      tensors.push(...source.map((tensor) => ({ ...tensor, name: tensor.name.replace(/^blk\.\d+\./, `${prefix}.`) })));
      continue;
    }
    tensors.push(
      ones(`${prefix}.attn_norm.weight`, n),
      matrix(gaussian, `${prefix}.attn_q.weight`, n, n, attentionStd),
      matrix(gaussian, `${prefix}.attn_k.weight`, n, n, attentionStd),
      matrix(gaussian, `${prefix}.attn_v.weight`, n, n, attentionStd),
      matrix(gaussian, `${prefix}.attn_output.weight`, n, n, attentionStd, true),
      ones(`${prefix}.ffn_norm.weight`, n),
      matrix(gaussian, `${prefix}.ffn_gate.weight`, n, ff, attentionStd),
      matrix(gaussian, `${prefix}.ffn_up.weight`, n, ff, attentionStd),
      matrix(gaussian, `${prefix}.ffn_down.weight`, ff, n, 1 / Math.sqrt(ff), true),
    );
  }
  return tensors;
}

export function demoModelFile(shape: DemoModelShape = demoModelShape): GgufFile {
  const vocab = demoVocabulary();
  const metadata: Array<readonly [string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: demoModelName }],
    ['general.description', { type: 'string', value: `Random weights from seed ${shape.seed}. Output is noise.` }],
    ['general.file_type', { type: 'uint32', value: 0 }],
    ['llama.context_length', { type: 'uint32', value: shape.contextLength }],
    ['llama.embedding_length', { type: 'uint32', value: shape.embeddingLength }],
    ['llama.block_count', { type: 'uint32', value: shape.blockCount }],
    ['llama.feed_forward_length', { type: 'uint32', value: shape.feedForwardLength }],
    ['llama.attention.head_count', { type: 'uint32', value: shape.headCount }],
    ['llama.attention.head_count_kv', { type: 'uint32', value: shape.headCount }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: 1e-5 }],
    ['llama.rope.dimension_count', { type: 'uint32', value: shape.embeddingLength / shape.headCount }],
    ['llama.rope.freq_base', { type: 'float32', value: 10_000 }],
    ['llama.vocab_size', { type: 'uint32', value: vocab.tokens.length }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'stringArray', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'float32Array', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'int32Array', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: vocab.bosId }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: vocab.eosId }],
    ['tokenizer.ggml.unknown_token_id', { type: 'uint32', value: vocab.unknownId }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];
  return { metadata, tensors: demoTensors(shape, vocab) };
}

export function encodeDemoModel(shape: DemoModelShape = demoModelShape): Buffer {
  return encodeGguf(demoModelFile(shape));
}

export interface WriteDemoModelResult {
  path: string;
  sha256: string;
  bytes: number;
  written: boolean;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes the demo model to `path`. Idempotent: a file with the same content hash is left untouched. */
export async function writeDemoModel(
  path: string = demoModelPathDefault,
  shape: DemoModelShape = demoModelShape,
): Promise<WriteDemoModelResult> {
  const bytes = encodeDemoModel(shape);
  const hash = sha256(bytes);
  const existing = await readIfExists(path);
  if (existing !== null && sha256(existing) === hash) {
    return { path, sha256: hash, bytes: bytes.byteLength, written: false };
  }
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  await writeFile(temporaryPath, bytes);
  await rename(temporaryPath, path);
  return { path, sha256: hash, bytes: bytes.byteLength, written: true };
}
