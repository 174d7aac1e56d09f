/**
 * HTTP to the upstreams of one `openai` provider: per upstream, where to send (origin and path prefix, no URL parsing
 * per request) and its fixed headers, computed once; a POST whose body is streamed (`send`) or read whole
 * (`sendForJson`); and the health probe.
 */
import { type Dispatcher, request } from 'undici';
import { providerLimits } from '../limits.ts';
import type { CallOptions } from '../types.ts';
import { type Attempt, AttemptFailed, type Call } from './call.ts';
import type { OpenAiUpstreamConfig } from './config.ts';
import { failureFromError, failureFromStatus } from './failures.ts';

export type Json = Record<string, unknown>;

interface Target {
  origin: string;
  prefix: string;
  headers: Record<string, string>;
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path}`;
}

function targetOf(upstream: OpenAiUpstreamConfig): Target {
  const url = new URL(upstream.baseUrl.replace(/\/+$/, ''));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {}),
    ...upstream.headers,
  };
  return { origin: url.origin, prefix: `${url.pathname.replace(/\/+$/, '')}/`, headers };
}

/**
 * A dispatch handler that gathers an answer's chunks and parses them once. The answer's headers are its first byte.
 * A status of 300 or more rejects with an `AttemptFailed`; a body that is not JSON with the parser's SyntaxError.
 */
function jsonHandler(
  upstream: OpenAiUpstreamConfig,
  attempt: Attempt,
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): Dispatcher.DispatchHandler & { fail(error: unknown): void } {
  let statusCode = 0;
  let retryAfter: string | undefined;
  const chunks: Buffer[] = [];
  let ended = false;
  const fail = (error: unknown) => {
    if (ended) return;
    ended = true;
    reject(error);
  };
  return {
    fail,
    onRequestStart(controller) {
      const { signal } = attempt;
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => !ended && controller.abort(signal.reason), { once: true });
    },
    onResponseStart(_controller, status, headers) {
      statusCode = status;
      retryAfter = headerValue(headers['retry-after']);
      attempt.firstByte();
    },
    onResponseData(_controller, chunk) {
      chunks.push(chunk);
    },
    onResponseEnd() {
      if (ended) return;
      ended = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (statusCode >= 300) reject(new AttemptFailed(failureFromStatus(upstream.name, statusCode, text, retryAfter)));
      else {
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(error);
        }
      }
    },
    onResponseError(_controller, error) {
      fail(error);
    },
  };
}

export class Transport {
  readonly #dispatcher: Dispatcher;
  readonly #targets: Map<OpenAiUpstreamConfig, Target>;

  constructor(upstreams: readonly OpenAiUpstreamConfig[], dispatcher: Dispatcher) {
    this.#dispatcher = dispatcher;
    this.#targets = new Map(upstreams.map((upstream) => [upstream, targetOf(upstream)]));
  }

  #headersFor(upstream: OpenAiUpstreamConfig, options: CallOptions | undefined): Record<string, string> {
    const fixed = this.#targets.get(upstream)!.headers;
    if (!options?.requestId || (upstream.headers && 'x-request-id' in upstream.headers)) return fixed;
    return { ...fixed, 'x-request-id': options.requestId };
  }

  /** POSTs `body`; the answer's body is left to the caller to read. A status of 300 or more is an `AttemptFailed`. */
  async send(upstream: OpenAiUpstreamConfig, path: string, body: Json, call: Call, attempt: Attempt) {
    const target = this.#targets.get(upstream)!;
    const response = await this.#dispatcher.request({
      origin: target.origin,
      path: target.prefix + path,
      method: 'POST',
      headers: this.#headersFor(upstream, call.options),
      body: JSON.stringify(body),
      signal: attempt.signal,
    });
    if (response.statusCode >= 300) {
      const text = await response.body.text().catch(() => '');
      throw new AttemptFailed(
        failureFromStatus(upstream.name, response.statusCode, text, headerValue(response.headers['retry-after'])),
      );
    }
    return response;
  }

  /**
   * `send` for an answer read whole: the body's chunks are gathered by a dispatch handler and parsed once, without
   * the body stream, its promise plumbing and the signal bookkeeping that `request` sets up per call (about 3 µs of a
   * gateway's CPU per request). Errors are `send`'s, or the parser's SyntaxError.
   */
  sendForJson(upstream: OpenAiUpstreamConfig, path: string, body: Json, call: Call, attempt: Attempt) {
    const target = this.#targets.get(upstream)!;
    return new Promise<unknown>((resolve, reject) => {
      const handler = jsonHandler(upstream, attempt, resolve, reject);
      try {
        this.#dispatcher.dispatch(
          {
            origin: target.origin,
            path: target.prefix + path,
            method: 'POST',
            headers: this.#headersFor(upstream, call.options),
            body: JSON.stringify(body),
          },
          handler,
        );
      } catch (error) {
        handler.fail(error);
      }
    });
  }

  /** GET {base}/models within the health-check timeout: one line for operators. */
  async health(upstream: OpenAiUpstreamConfig, now: () => number): Promise<{ ok: boolean; line: string }> {
    const startedAt = now();
    try {
      const response = await request(joinUrl(upstream.baseUrl, 'models'), {
        method: 'GET',
        headers: upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {},
        signal: AbortSignal.timeout(providerLimits.healthCheckTimeoutMs),
        dispatcher: this.#dispatcher,
      });
      await response.body.dump();
      const ok = response.statusCode === 200;
      return { ok, line: `${upstream.name}: ${ok ? 'ok' : response.statusCode} (${now() - startedAt} ms)` };
    } catch (error) {
      return { ok: false, line: `${upstream.name}: ${failureFromError(upstream.name, error).error.message}` };
    }
  }
}
