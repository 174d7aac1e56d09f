/**
 * An upstream's SSE stream as provider stream events: chunks with choices are passed on (model renamed to the public
 * id), usage is taken from wherever the upstream put it (a usage-only chunk or the finish chunk), and the end carries
 * the usage, estimated from the text when the upstream sent none. A stream that closes before a finish is truncated.
 */
import { UpstreamError } from '../../../core/errors.ts';
import { estimateTokens } from '../estimate.ts';
import { providerLimits } from '../limits.ts';
import type { StreamEvent } from '../stream.ts';
import { toOpenAiUsage, type Usage } from '../types.ts';
import { parseSse } from './sse.ts';
import type { Json } from './transport.ts';
import { extractUsage } from './usage.ts';

export function chatText(chunk: Json): string {
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
  return choices
    .map((choice) => {
      const content = (choice.delta as Json | undefined)?.content ?? (choice.message as Json | undefined)?.content;
      return typeof content === 'string' ? content : '';
    })
    .join('');
}

export function completionText(chunk: Json): string {
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
  return choices.map((choice) => (typeof choice.text === 'string' ? choice.text : '')).join('');
}

function hasChoices(chunk: Json): boolean {
  return Array.isArray(chunk.choices) && chunk.choices.length > 0;
}

function hasFinish(chunk: Json): boolean {
  return hasChoices(chunk) && (chunk.choices as Json[]).some((choice) => choice.finish_reason != null);
}

/** The upstream's events as JSON objects; returns 'done' at `[DONE]`, 'eof' when the body ended without it. */
export async function* upstreamChunks(
  body: AsyncIterable<Uint8Array>,
  upstream: string,
): AsyncGenerator<Json, 'done' | 'eof'> {
  for await (const event of parseSse(body, providerLimits.sseEventBytesMax)) {
    if (event.data === '[DONE]') return 'done';
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      throw new UpstreamError(`upstream ${upstream} sent a malformed stream event`, { code: 'upstream_bad_event' });
    }
    const error = (parsed as { error?: { message?: unknown } | string } | null)?.error;
    if (event.event === 'error' || error !== undefined) {
      const message = typeof error === 'string' ? error : String(error?.message ?? 'unknown error');
      throw new UpstreamError(`upstream ${upstream} stream error: ${message}`, { code: 'upstream_stream_error' });
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new UpstreamError(`upstream ${upstream} sent a non-object stream event`, { code: 'upstream_bad_event' });
    }
    yield parsed as Json;
  }
  return 'eof';
}

/** A stream whose first event has arrived. */
export interface OpenedStream {
  upstream: string;
  first: Json;
  chunks: AsyncGenerator<Json, 'done' | 'eof'>;
}

export interface RelayOptions {
  /** The public model id, which every chunk carries. */
  model: string;
  textOf(chunk: Json): string;
  promptEstimate: number;
}

/** The next upstream event; a failure after the upstream reported its usage carries that usage (what it bills). */
async function nextChunk(opened: OpenedStream, usage: Usage | null): Promise<IteratorResult<Json, 'done' | 'eof'>> {
  try {
    return await opened.chunks.next();
  } catch (error) {
    if (usage === null || !(error instanceof UpstreamError)) throw error;
    throw new UpstreamError(error.message, { code: error.code, cause: error, billed: usage });
  }
}

export async function* relayEvents<TChunk>(
  opened: OpenedStream,
  options: RelayOptions,
): AsyncGenerator<StreamEvent<TChunk>> {
  let usage: Usage | null = null;
  // The upstream's usage object as it sent it: the client sees the upstream's numbers (OpenAI's filled in).
  let usageObject: unknown = null;
  let text = '';
  let finished = false;
  let last: Json = opened.first;
  let item: Json = opened.first;
  while (true) {
    const reported = extractUsage(item);
    if (reported !== null) [usage, usageObject] = [reported, item.usage];
    finished ||= hasFinish(item);
    last = item;
    if (hasChoices(item)) {
      const { usage: _dropped, ...chunk } = item;
      const piece = options.textOf(chunk);
      text += piece;
      yield { kind: 'chunk', chunk: { ...chunk, model: options.model } as TChunk, text: piece, tokens: null };
    }
    const next = await nextChunk(opened, usage);
    if (next.done) {
      if (next.value === 'eof' && !finished) {
        throw new UpstreamError(`upstream ${opened.upstream} closed the stream before it finished`, {
          code: 'upstream_truncated_stream',
          ...(usage === null ? {} : { billed: usage }),
        });
      }
      break;
    }
    item = next.value;
  }
  const final: Usage = usage ?? {
    promptTokens: options.promptEstimate,
    completionTokens: estimateTokens(text),
    estimated: true,
  };
  const usageChunk = { id: last.id, object: last.object, created: last.created, model: options.model, choices: [] };
  const usageOut = usage === null ? toOpenAiUsage(final) : { ...toOpenAiUsage(final), ...(usageObject as Json) };
  yield { kind: 'end', chunk: { ...usageChunk, usage: usageOut } as TChunk, usage: final };
}
