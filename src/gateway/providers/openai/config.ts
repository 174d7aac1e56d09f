/** The `openai` provider as typed data: an ordered list of OpenAI-compatible upstreams serving a set of models. */
import type { ComputeRateConfig } from '../../../core/computeUnits.ts';
import type { Capability } from '../types.ts';

export interface OpenAiUpstreamConfig {
  /** For logs, health reports and error messages. */
  name: string;
  /** Including the version prefix, e.g. `http://127.0.0.1:8080/v1` or `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Public model id → this upstream's model id, where it differs from the provider-level mapping. */
  modelMap?: Record<string, string>;
}

export interface OpenAiModelConfig {
  /** Public id, as clients name it. */
  id: string;
  /** The id upstreams know it by. Defaults to `id`. */
  upstreamId?: string;
  capabilities?: Capability[];
  contextLength?: number;
  ownedBy?: string;
}

export interface OpenAiTimeouts {
  connectMs: number;
  /** To the response headers of a JSON call; to the first SSE event of a stream. */
  firstByteMs: number;
  /** The whole call, every attempt and the full stream included. */
  totalMs: number;
}

export interface OpenAiProviderConfig {
  kind: 'openai';
  id: string;
  /** Tried in order; the next one is used only before the first byte reached the client. */
  upstreams: OpenAiUpstreamConfig[];
  models: OpenAiModelConfig[];
  /** Lower runs first when two providers serve the same model. Default 0. */
  priority?: number;
  timeouts?: Partial<OpenAiTimeouts>;
  /** Extra attempts on the same upstream before moving to the next. Default `upstreamRetriesMax`. */
  retries?: number;
  /** The upstreams' hardware against the reference accelerator (1 CU per engine-second), and its cost per hour. */
  computeRate?: ComputeRateConfig;
}

export function upstreamModelId(
  config: OpenAiProviderConfig,
  upstream: OpenAiUpstreamConfig,
  publicId: string,
): string {
  return upstream.modelMap?.[publicId] ?? config.models.find((model) => model.id === publicId)?.upstreamId ?? publicId;
}
