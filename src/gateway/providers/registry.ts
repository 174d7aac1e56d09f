/**
 * The typed provider registry: a discriminated union of provider configs, each kind mapped to its factory by the
 * type system (adding a kind without a factory does not compile), and model lookup by public id in priority order.
 */
import { NotFoundError } from '../../core/errors.ts';
import { createLlamaProvider, type LlamaProviderConfig, type LlamaProviderDeps } from './llama/llamaProvider.ts';
import { createOpenAiProvider, type OpenAiProviderConfig, type OpenAiProviderDeps } from './openai/openaiProvider.ts';
import type { HealthReport, ModelInfo, Provider, ProviderKind } from './types.ts';

export type ProviderConfig = LlamaProviderConfig | OpenAiProviderConfig;

export interface ProviderDeps {
  now: () => number;
  /** Only called when a llama provider first runs a request. */
  llama: LlamaProviderDeps['llama'];
  dispatcher?: OpenAiProviderDeps['dispatcher'];
}

type Factories = {
  [K in ProviderKind]: (config: Extract<ProviderConfig, { kind: K }>, deps: ProviderDeps) => Provider;
};

const factories: Factories = {
  llama: (config, deps) => createLlamaProvider(config, { llama: deps.llama, now: deps.now }),
  openai: (config, deps) =>
    createOpenAiProvider(config, { now: deps.now, ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}) }),
};

export function createProvider<C extends ProviderConfig>(config: C, deps: ProviderDeps): Provider {
  const factory = factories[config.kind] as (config: C, deps: ProviderDeps) => Provider;
  return factory(config, deps);
}

export interface ProviderRegistry {
  readonly providers: readonly Provider[];
  /** The providers serving a public model id, best priority first. Throws NotFoundError when none does. */
  providersFor(modelId: string): readonly Provider[];
  /** Every served model once, from its best-priority provider. */
  listModels(): Array<ModelInfo & { providerId: string }>;
  healthCheck(): Promise<Record<string, HealthReport>>;
  close(): Promise<void>;
}

export function createProviderRegistry(configs: readonly ProviderConfig[], deps: ProviderDeps): ProviderRegistry {
  const ids = new Set<string>();
  for (const config of configs) {
    if (ids.has(config.id)) throw new Error(`duplicate provider id ${config.id}`);
    ids.add(config.id);
  }
  const providers = configs.map((config) => createProvider(config, deps)).sort((a, b) => a.priority - b.priority);

  const byModel = new Map<string, Provider[]>();
  for (const provider of providers) {
    for (const model of provider.listModels()) {
      const serving = byModel.get(model.id) ?? [];
      serving.push(provider);
      byModel.set(model.id, serving);
    }
  }

  return {
    providers,
    providersFor(modelId) {
      const serving = byModel.get(modelId);
      if (serving === undefined) {
        throw new NotFoundError(`model ${modelId} does not exist`, { code: 'model_not_found', param: 'model' });
      }
      return serving;
    },
    listModels() {
      const seen = new Set<string>();
      const models: Array<ModelInfo & { providerId: string }> = [];
      for (const provider of providers) {
        for (const model of provider.listModels()) {
          if (seen.has(model.id)) continue;
          seen.add(model.id);
          models.push({ ...model, providerId: provider.id });
        }
      }
      return models;
    },
    async healthCheck() {
      const reports = await Promise.all(
        providers.map(async (provider) => [provider.id, await provider.healthCheck()] as const),
      );
      return Object.fromEntries(reports);
    },
    async close() {
      await Promise.all(providers.map((provider) => provider.close()));
    },
  };
}
