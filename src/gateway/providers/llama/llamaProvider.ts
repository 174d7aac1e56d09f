/**
 * The `llama` provider: GGUF models in process through node-llama-cpp. Each model is loaded on first use, runs one
 * request at a time on `threads` threads (1 by default) and queues the rest up to `queueLengthMax`.
 */
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import type { Llama } from 'node-llama-cpp';
import { type ComputeRateConfig, computeRateOf } from '../../../core/computeUnits.ts';
import { secondMs } from '../../../core/epoch.ts';
import { NotFoundError } from '../../../core/errors.ts';
import { providerLimits } from '../limits.ts';
import type { CallOptions, HealthReport, ModelInfo, Provider } from '../types.ts';
import { embed } from './llamaEmbed.ts';
import {
  chatChunks,
  chatResponse,
  completionChunks,
  completionResponse,
  type ResponseStamp,
} from './llamaResponses.ts';
import { run, runStream } from './llamaRun.ts';
import { createModelHost, type LlamaModelConfig, type ModelHost } from './modelHost.ts';

export type { LlamaModelConfig };

export interface LlamaProviderConfig {
  kind: 'llama';
  id: string;
  models: LlamaModelConfig[];
  /** Lower runs first when two providers serve the same model. Default 0. */
  priority?: number;
  /** llama.cpp threads per model. Default `llamaThreadCount` (1): more is far slower on small shared machines. */
  threads?: number;
  /** Requests waiting per model beyond the one running. Default `queueLengthMax`. */
  queueLengthMax?: number;
  /** This machine's CPU against the reference accelerator (1 CU per engine-second), and its cost per hour. */
  computeRate?: ComputeRateConfig;
}

export interface LlamaProviderDeps {
  /** The llama.cpp runtime, loaded on first use (see `loadLlamaRuntime`). */
  llama: () => Promise<Llama>;
  /** Wall clock in ms, for `created` fields. */
  now: () => number;
}

function hostsOf(config: LlamaProviderConfig, deps: LlamaProviderDeps): Map<string, ModelHost> {
  const settings = {
    threads: config.threads ?? providerLimits.llamaThreadCount,
    queueLengthMax: config.queueLengthMax ?? providerLimits.queueLengthMax,
  };
  return new Map(config.models.map((model) => [model.id, createModelHost(deps.llama, model, settings)]));
}

function listModels(config: LlamaProviderConfig): ModelInfo[] {
  return config.models.map((model) => ({
    id: model.id,
    ownedBy: model.ownedBy ?? config.id,
    capabilities: ['chat', 'completion', 'embedding'],
    contextLength: model.contextSize ?? null,
  }));
}

async function healthOf(
  config: LlamaProviderConfig,
  hosts: Map<string, ModelHost>,
  now: () => number,
): Promise<HealthReport> {
  const startedAt = now();
  const missing: string[] = [];
  for (const model of config.models) {
    await access(model.path).catch(() => missing.push(model.id));
  }
  const loadedCount = [...hosts.values()].filter((host) => host.loaded).length;
  return {
    ok: missing.length === 0,
    latencyMs: now() - startedAt,
    detail:
      missing.length === 0
        ? `${config.models.length} models, ${loadedCount} loaded`
        : `model files missing: ${missing.join(', ')}`,
  };
}

export function createLlamaProvider(config: LlamaProviderConfig, deps: LlamaProviderDeps): Provider {
  const hosts = hostsOf(config, deps);
  const hostFor = (modelId: string): ModelHost => {
    const host = hosts.get(modelId);
    if (host === undefined) {
      throw new NotFoundError(`model ${modelId} is not served by provider ${config.id}`, {
        code: 'model_not_found',
        param: 'model',
      });
    }
    return host;
  };
  const stamp = (prefix: string, model: string, options: CallOptions | undefined): ResponseStamp => ({
    id: `${prefix}-${options?.requestId ?? randomUUID()}`,
    created: Math.floor(deps.now() / secondMs),
    model,
  });

  return {
    id: config.id,
    kind: 'llama',
    priority: config.priority ?? 0,
    computeRate: computeRateOf(config.computeRate),
    reportsEngineTiming: true,
    listModels: () => listModels(config),
    async chat(request, options) {
      const result = await run(hostFor(request.model), 'chat', request, options);
      return chatResponse(stamp('chatcmpl', request.model, options), result);
    },
    async streamChat(request, options) {
      const chunks = chatChunks(stamp('chatcmpl', request.model, options));
      return await runStream(hostFor(request.model), 'chat', request, options, chunks);
    },
    async complete(request, options) {
      const result = await run(hostFor(request.model), 'completion', request, options);
      return completionResponse(stamp('cmpl', request.model, options), result);
    },
    async streamCompletion(request, options) {
      const chunks = completionChunks(stamp('cmpl', request.model, options));
      return await runStream(hostFor(request.model), 'completion', request, options, chunks);
    },
    async embed(request, options) {
      return await embed(hostFor(request.model), request, options);
    },
    healthCheck: () => healthOf(config, hosts, deps.now),
    async close() {
      await Promise.all([...hosts.values()].map((host) => host.dispose()));
    },
  };
}
