/**
 * The answer kept for an idempotent request (one with an Idempotency-Key), stored by the ledger in the same
 * transaction as its charge, and replayed to a retry with the same key and body. It is kept without its `cost`:
 * a replay takes the cost from the settled reservation, so the two can never disagree. A stream is kept as its
 * chunks and replayed as a stream; a binary answer (audio) as base64, with its content type.
 */
import { ledgerLimits } from '../../ledger/limits.ts';

export type StoredAnswer =
  | { type: 'json'; body: object }
  | { type: 'sse'; chunks: object[] }
  /** A binary answer (audio), as base64, with the upstream's content type. */
  | { type: 'bytes'; contentType: string; base64: string };

export function encodeAnswer(answer: StoredAnswer): string | undefined {
  const text = JSON.stringify(answer);
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when the length alone cannot decide.
  if (text.length * 3 <= ledgerLimits.storedResponseBytesMax) return text;
  return Buffer.byteLength(text, 'utf8') <= ledgerLimits.storedResponseBytesMax ? text : undefined;
}

export function decodeAnswer(text: string): StoredAnswer {
  return JSON.parse(text) as StoredAnswer;
}

/**
 * Gathers a stream's chunks for keeping, up to the stored-answer limit; past it, nothing is kept (a replay then says
 * the answer was not kept, rather than replaying half of it).
 */
export class ChunkRecorder {
  private chunks: object[] | null = [];
  private length = 0;

  add(chunk: object, text: string): void {
    if (this.chunks === null) return;
    this.length += text.length;
    if (this.length > ledgerLimits.storedResponseBytesMax) this.chunks = null;
    else this.chunks.push(chunk);
  }

  encode(): string | undefined {
    return this.chunks === null ? undefined : encodeAnswer({ type: 'sse', chunks: this.chunks });
  }
}
