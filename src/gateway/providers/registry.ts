/**
 * The typed provider registry: a discriminated union of provider configs, each kind mapped to its factory by the
 * type system (adding a kind without a factory does not compile), and model lookup by public id in priority order.
 */
import { NotFoundError, UnavailableError } from '../../core/errors.ts';
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

/** The operator's settings for routing (see `gateway/settings`): what is on, in what order, with what context. */
export interface RoutingSettings {
  /** Changes whenever any setting does. */
  revision(): number;
  provider(id: string): { enabled: boolean; priority: number } | undefined;
  model(id: string): { enabled: boolean; contextLength?: number } | undefined;
}

/**
 * `registry` as the operator set it: a disabled model is not listed and not found (404); a disabled provider serves
 * nothing (a model it alone serves is unavailable, 503); priorities reorder failover; a context override replaces
 * the model's. Routes are rebuilt only when the settings' revision changes.
 */
export function withRoutingSettings(registry: ProviderRegistry, settings: RoutingSettings): ProviderRegistry {
  let revision: number | null = null;
  let routes = new Map<string, Provider[]>();
  let models: Array<ModelInfo & { providerId: string }> = [];
  const rebuild = () => {
    const priority = (provider: Provider) => settings.provider(provider.id)?.priority ?? provider.priority;
    const ordered = registry.providers
      .filter((provider) => settings.provider(provider.id)?.enabled !== false)
      .sort((a, b) => priority(a) - priority(b));
    routes = new Map();
    models = [];
    for (const provider of ordered) {
      for (const model of provider.listModels()) {
        const setting = settings.model(model.id);
        if (setting?.enabled === false) continue;
        const serving = routes.get(model.id);
        if (serving) {
          serving.push(provider);
          continue;
        }
        routes.set(model.id, [provider]);
        models.push({
          ...model,
          contextLength: setting?.contextLength ?? model.contextLength,
          providerId: provider.id,
        });
      }
    }
  };
  const current = () => {
    if (settings.revision() !== revision) {
      revision = settings.revision();
      rebuild();
    }
  };
  return {
    providers: registry.providers,
    providersFor(modelId) {
      current();
      const serving = routes.get(modelId);
      if (serving) return serving;
      registry.providersFor(modelId); // NotFoundError for a model no provider has
      if (settings.model(modelId)?.enabled === false) {
        throw new NotFoundError(`model ${modelId} is not available`, { code: 'model_not_found', param: 'model' });
      }
      throw new UnavailableError(`no enabled provider serves ${modelId}`, {
        code: 'model_unavailable',
        param: 'model',
      });
    },
    listModels() {
      current();
      return [...models];
    },
    healthCheck: () => registry.healthCheck(),
    close: () => registry.close(),
  };
}
