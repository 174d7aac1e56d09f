/** What `perdiem up` serves: the in-process model (a GGUF, or the generated demo model), or configured upstreams. */
import path from 'node:path';
import type { ComputeRateConfig } from '../../core/computeUnits.ts';
import { type ProviderConfig, providerLimits, writeDemoModel } from '../../gateway/providers/index.ts';
import { UsageError } from '../command.ts';
import { upstreamProbeTimeoutMs } from '../limits.ts';
import type { StackConfig } from '../stackConfig.ts';
import type { Progress } from './closers.ts';

export const localModelId = 'perdiem-demo';

export interface Inference {
  providers: ProviderConfig[];
  models: string[];
  imageModels: string[];
  speechModels: string[];
}

/** The in-process model (a GGUF, or the generated demo model), or the configured upstreams and their models. */
export async function inference(config: StackConfig, progress: Progress): Promise<Inference> {
  if (config.upstream) {
    const imageModels = config.upstreamImageModels ?? [];
    const speechModels = config.upstreamSpeechModels ?? [];
    const listed = config.upstreamModels ? [] : await upstreamModels(config.upstream, config.upstreamApiKey);
    const contextOf = new Map(listed.map((model) => [model.id, model.contextLength]));
    const models = (config.upstreamModels ?? listed.map((model) => model.id)).filter(
      (id) => !imageModels.includes(id) && !speechModels.includes(id),
    );
    if (models.length + imageModels.length + speechModels.length === 0)
      throw new UsageError('the upstreams list no models; name them with --upstream-models');
    progress(`routing ${[...models, ...imageModels, ...speechModels].join(', ')} to ${config.upstream.join(' → ')}`);
    const upstreams = config.upstream.map((baseUrl, index) => ({
      name: `upstream-${index + 1}`,
      baseUrl,
      ...(config.upstreamApiKey ? { apiKey: config.upstreamApiKey } : {}),
    }));
    const served = [
      ...models.map((id) => {
        const contextLength = contextOf.get(id);
        return contextLength === undefined ? { id } : { id, contextLength };
      }),
      ...imageModels.map((id) => ({ id, capabilities: ['image' as const] })),
      ...speechModels.map((id) => ({ id, capabilities: ['speech' as const] })),
    ];
    const providers: ProviderConfig[] = [
      { kind: 'openai', id: 'upstream', upstreams, models: served, ...computeRateOf(config) },
    ];
    return { providers, models, imageModels, speechModels };
  }
  let modelPath = config.model;
  if (!modelPath) {
    modelPath = path.join(config.home, 'models', 'perdiem-demo.gguf');
    progress('writing the demo model (random weights, not a real model)…');
    await writeDemoModel(modelPath);
  }
  // A real GGUF is served under its file name; the generated one as perdiem-demo.
  const id = config.model ? path.basename(config.model).replace(/\.gguf$/i, '') : localModelId;
  const contextSize = await llamaContextTokens(modelPath);
  const model = { id, path: path.resolve(modelPath), ...(contextSize === undefined ? {} : { contextSize }) };
  return {
    providers: [{ kind: 'llama', id: 'local', models: [model], threads: 1, ...computeRateOf(config) }],
    models: [id],
    imageModels: [],
    speechModels: [],
  };
}

/** The rate the operator declared for the served provider (--compute-cu-per-second, --compute-cost-per-hour-usd). */
function computeRateOf(config: StackConfig): { computeRate?: ComputeRateConfig } {
  if (config.computeCuPerSecond === undefined && config.computeCostPerHourUsd === undefined) return {};
  return {
    computeRate: {
      cuPerEngineSecond: config.computeCuPerSecond ?? 1,
      ...(config.computeCostPerHourUsd === undefined ? {} : { costPerHourUsd: config.computeCostPerHourUsd }),
    },
  };
}

/**
 * The context the in-process model runs with (the gateway's default capped by the GGUF's training context), read
 * from the file's header so that /v1/models states it before the model is first loaded.
 */
async function llamaContextTokens(modelPath: string): Promise<number | undefined> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const info = await readGgufFileInfo(modelPath, { readTensorInfo: false, logWarnings: false });
  const trained = (info.architectureMetadata as { context_length?: unknown }).context_length;
  return typeof trained === 'number' ? Math.min(providerLimits.llamaContextSizeDefault, trained) : undefined;
}

interface UpstreamModel {
  id: string;
  contextLength?: number;
}

/** An upstream's listing, with the context length where it states one (Venice, OpenRouter or vLLM's field). */
export function upstreamModelOf(entry: Record<string, unknown>): UpstreamModel {
  const spec = entry.model_spec as { availableContextTokens?: unknown } | undefined;
  const context = [spec?.availableContextTokens, entry.context_length, entry.max_model_len].find(
    (value): value is number => Number.isSafeInteger(value) && (value as number) > 0,
  );
  return { id: String(entry.id), ...(context === undefined ? {} : { contextLength: context }) };
}

async function upstreamModels(baseUrls: string[], apiKey: string | undefined): Promise<UpstreamModel[]> {
  for (const baseUrl of baseUrls) {
    const response = await fetch(`${baseUrl.replace(/\/$/, '')}/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(upstreamProbeTimeoutMs),
    }).catch(() => null);
    if (!response?.ok) continue;
    const body = (await response.json()) as { data?: Record<string, unknown>[] };
    return (body.data ?? []).map(upstreamModelOf);
  }
  throw new UsageError(`no upstream answered GET /models: ${baseUrls.join(', ')}`);
}
