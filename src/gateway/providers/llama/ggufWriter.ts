/**
 * A minimal GGUF v3 writer: typed metadata and F32 tensors, enough to build a llama-architecture model by hand.
 * Layout: header, metadata key/values, tensor infos, padding, then tensor data, every tensor aligned to
 * `ggufAlignmentBytes` (the GGUF default, so `general.alignment` need not be written).
 */

export const ggufAlignmentBytes = 32;

/** GGUF value types, as numbered by the format. */
const valueType = {
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const;

const ggmlTypeF32 = 0;

export type GgufValue =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'stringArray'; value: readonly string[] }
  | { type: 'float32Array'; value: readonly number[] }
  | { type: 'int32Array'; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: the first dimension is the innermost (contiguous) one. */
  dims: readonly number[];
  data: Float32Array;
}

export interface GgufFile {
  metadata: ReadonlyArray<readonly [key: string, value: GgufValue]>;
  tensors: readonly GgufTensor[];
}

/** Append-only little-endian byte sink that grows as needed. */
class ByteSink {
  private buffer: Buffer;
  length = 0;

  /** `expectedBytes`: allocated at once, so a large file is not copied as it grows. */
  constructor(expectedBytes = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(expectedBytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  u32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
  }

  i32(value: number): void {
    this.reserve(4);
    this.buffer.writeInt32LE(value, this.length);
    this.length += 4;
  }

  u64(value: number): void {
    this.reserve(8);
    this.buffer.writeBigUInt64LE(BigInt(value), this.length);
    this.length += 8;
  }

  f32(value: number): void {
    this.reserve(4);
    this.buffer.writeFloatLE(value, this.length);
    this.length += 4;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer.writeUInt8(value, this.length);
    this.length += 1;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.byteLength);
    this.buffer.set(data, this.length);
    this.length += data.byteLength;
  }

  string(value: string): void {
    const encoded = Buffer.from(value, 'utf8');
    this.u64(encoded.byteLength);
    this.bytes(encoded);
  }

  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }

  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeValue(sink: ByteSink, entry: GgufValue): void {
  switch (entry.type) {
    case 'uint32':
      sink.u32(valueType.uint32);
      sink.u32(entry.value);
      return;
    case 'int32':
      sink.u32(valueType.int32);
      sink.i32(entry.value);
      return;
    case 'float32':
      sink.u32(valueType.float32);
      sink.f32(entry.value);
      return;
    case 'bool':
      sink.u32(valueType.bool);
      sink.u8(entry.value ? 1 : 0);
      return;
    case 'string':
      sink.u32(valueType.string);
      sink.string(entry.value);
      return;
    case 'stringArray':
      sink.u32(valueType.array);
      sink.u32(valueType.string);
      sink.u64(entry.value.length);
      for (const item of entry.value) sink.string(item);
      return;
    case 'float32Array':
      sink.u32(valueType.array);
      sink.u32(valueType.float32);
      sink.u64(entry.value.length);
      for (const item of entry.value) sink.f32(item);
      return;
    case 'int32Array':
      sink.u32(valueType.array);
      sink.u32(valueType.int32);
      sink.u64(entry.value.length);
      for (const item of entry.value) sink.i32(item);
      return;
  }
}

/** Room for the header, metadata and tensor infos before the tensor data; the sink grows past it if need be. */
const metadataBytesReserve = 1 << 20;

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** Serialises a GGUF file to bytes. Deterministic: the same input gives the same bytes. */
export function encodeGguf(file: GgufFile): Buffer {
  const tensorBytes = file.tensors.reduce((total, t) => total + alignUp(t.data.byteLength, ggufAlignmentBytes), 0);
  const sink = new ByteSink(tensorBytes + metadataBytesReserve);
  sink.bytes(Buffer.from('GGUF', 'ascii'));
  sink.u32(3);
  sink.u64(file.tensors.length);
  sink.u64(file.metadata.length);
  for (const [key, value] of file.metadata) {
    sink.string(key);
    writeValue(sink, value);
  }
  let offset = 0;
  for (const tensor of file.tensors) {
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (elements !== tensor.data.length) {
      throw new Error(`tensor ${tensor.name}: dims give ${elements} elements, data has ${tensor.data.length}`);
    }
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(ggmlTypeF32);
    sink.u64(offset);
    offset = alignUp(offset + tensor.data.byteLength, ggufAlignmentBytes);
  }
  sink.padTo(ggufAlignmentBytes);
  for (const tensor of file.tensors) {
    sink.bytes(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    sink.padTo(ggufAlignmentBytes);
  }
  return sink.toBuffer();
}
