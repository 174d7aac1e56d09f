/**
 * A provider stream as an SSE response. The final (usage) chunk is always sent, with the `cost` of the settle that
 * runs just before it. A stream that fails after it started ends with an `error` event and `[DONE]` and is charged
 * for what was delivered; a client that goes away aborts generation and is charged for what was delivered. Before
 * the first output token either pays nothing, and the work is the operator's loss (`earlyEndOf`). The meter finishes
 * in `finally`, whatever happened.
 */
import { billedOf, ClientClosedError, type TokenUsage, toOpenAiError } from '../../core/errors.ts';
import { costObjectOf, finishEarly, type Meter, textUsage } from '../metering/meter.ts';
import { ChunkRecorder } from '../metering/storedAnswer.ts';
import type { ProviderStream } from '../providers/index.ts';

export interface SseOptions {
  meter: Meter;
  /** Aborting it stops generation upstream. */
  abort: AbortController;
  /** Called once, after the meter finished: for the TPM correction, the access log and metrics. */
  onDone(usage: TokenUsage, outcome: string): void;
}

const encoder = new TextEncoder();

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

export function sseBody<TChunk extends { usage?: unknown }>(
  stream: ProviderStream<TChunk>,
  options: SseOptions,
): ReadableStream<Uint8Array> {
  const { meter, abort } = options;
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          closed = true;
        }
      };
      void pump(stream, meter, abort, send).then(async ({ outcome, billed }) => {
        if (outcome === 'ok') await meter.finish(textUsage(stream.usage));
        else await finishEarly(meter, stream.usage, billed);
        options.onDone(stream.usage, outcome);
        if (closed) return;
        send('data: [DONE]\n\n');
        closed = true;
        controller.close();
      });
    },
    cancel() {
      closed = true;
      abort.abort(new Error('client closed the stream'));
    },
  });
  return body;
}

async function pump<TChunk extends { usage?: unknown }>(
  stream: ProviderStream<TChunk>,
  meter: Meter,
  abort: AbortController,
  send: (text: string) => void,
): Promise<{ outcome: string; billed: TokenUsage | null }> {
  // An idempotent request keeps its chunks, stored with the charge, for a retry to replay.
  const recorder = meter.keepsAnswer ? new ChunkRecorder() : null;
  try {
    for await (const chunk of stream) {
      if (abort.signal.aborted) return { outcome: 'client_closed', billed: null };
      if (chunk.usage != null) {
        recorder?.add(chunk, JSON.stringify(chunk));
        const settled = await meter.settle(textUsage(stream.usage), recorder?.encode());
        const receipt = await meter.receipt();
        send(`data: ${JSON.stringify({ ...chunk, cost: costObjectOf(settled), ...(receipt ? { receipt } : {}) })}\n\n`);
      } else {
        const text = JSON.stringify(chunk);
        recorder?.add(chunk, text);
        send(`data: ${text}\n\n`);
      }
    }
    return { outcome: 'ok', billed: null };
  } catch (error) {
    const billed = billedOf(error);
    if (error instanceof ClientClosedError || abort.signal.aborted) return { outcome: 'client_closed', billed };
    send(`event: error\ndata: ${JSON.stringify(toOpenAiError(error).body)}\n\n`);
    return { outcome: toOpenAiError(error).body.error.code, billed };
  }
}
