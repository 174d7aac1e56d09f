/**
 * Server-sent events from a byte stream: `data:` lines joined per event, comments and unknown fields ignored,
 * CRLF or LF line ends. An event larger than `eventBytesMax` is a protocol error, not a memory problem.
 */
import { UpstreamError } from '../../../core/errors.ts';

export interface SseEvent {
  event: string;
  data: string;
}

export async function* parseSse(body: AsyncIterable<Uint8Array>, eventBytesMax: number): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let pendingBytes = 0;

  const dispatch = (): SseEvent | null => {
    const result = data.length > 0 ? { event, data: data.join('\n') } : null;
    event = 'message';
    data = [];
    pendingBytes = 0;
    return result;
  };

  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline = buffer.search(/\r\n|\n|\r/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      if (line === '') {
        const dispatched = dispatch();
        if (dispatched !== null) yield dispatched;
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') {
          data.push(value);
          pendingBytes += value.length;
        } else if (field === 'event') event = value;
      }
      newline = buffer.search(/\r\n|\n|\r/);
    }
    if (pendingBytes + buffer.length > eventBytesMax) {
      throw new UpstreamError(`upstream sent an SSE event over ${eventBytesMax} bytes`, {
        code: 'sse_event_too_large',
      });
    }
  }
  buffer += decoder.decode();
  if (buffer !== '' && buffer.startsWith('data:')) data.push(buffer.slice(5).replace(/^ /, ''));
  const last = dispatch();
  if (last !== null) yield last;
}
