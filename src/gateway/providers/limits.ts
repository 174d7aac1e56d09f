/** Every limit of the provider layer, in one place. Units are last in each name. */
import { minuteMs } from '../../core/epoch.ts';
export const providerLimits = {
  /** Connecting to an upstream (TCP + TLS). */
  connectTimeoutMs: 5_000,
  /** From sending the request to the first response byte (headers for JSON, the first SSE event for streams). */
  firstByteTimeoutMs: minuteMs,
  /** A whole upstream request, streaming included. */
  upstreamTimeoutMs: 10 * minuteMs,
  /** Extra attempts on the same upstream before failing over to the next one (before the first byte only). */
  upstreamRetriesMax: 1,
  healthCheckTimeoutMs: 5_000,
  /** One SSE event from an upstream; a larger one is a protocol error. */
  sseEventBytesMax: 4 * 1024 * 1024,
  /** Requests waiting for an in-process model, beyond the one running; more get a 503. */
  queueLengthMax: 16,
  /** llama.cpp threads per context. More is 10–1000× slower on small shared machines. */
  llamaThreadCount: 1,
  /** Context size of an in-process model when the config does not set one (capped by the model's own). */
  llamaContextSizeDefault: 4_096,
  /** Inputs in one embeddings request to an in-process model. */
  embeddingInputsMax: 256,
} as const;

export type ProviderLimits = typeof providerLimits;
