import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../core/errors.ts';
import { parseSse, type SseEvent } from './sse.ts';

async function* bytes(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function events(source: AsyncIterable<Uint8Array>, eventBytesMax = 1_000): Promise<SseEvent[]> {
  const result: SseEvent[] = [];
  for await (const event of parseSse(source, eventBytesMax)) result.push(event);
  return result;
}

describe('SSE parsing', () => {
  it('joins data lines, skips comments, and accepts CRLF and events split across reads', async () => {
    const parsed = await events(
      bytes(': ping\r\n\r\nda', 'ta: {"a":1}\r\n\r\nevent: error\ndata: one\ndata: two\n\n', 'data: [DONE]\n\n'),
    );
    expect(parsed).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'error', data: 'one\ntwo' },
      { event: 'message', data: '[DONE]' },
    ]);
  });

  it('delivers a last event that lacks its blank line', async () => {
    expect(await events(bytes('data: tail'))).toEqual([{ event: 'message', data: 'tail' }]);
  });

  it('rejects an event over the size limit as an upstream error', async () => {
    await expect(events(bytes(`data: ${'x'.repeat(200)}`), 100)).rejects.toBeInstanceOf(UpstreamError);
  });
});
