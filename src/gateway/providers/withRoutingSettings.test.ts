import { describe, expect, it } from 'vitest';
import { NotFoundError, UnavailableError } from '../../core/errors.ts';
import { fakeProvider } from '../testing/fakeRegistry.ts';
import { type ProviderRegistry, type RoutingSettings, withRoutingSettings } from './registry.ts';
import type { ModelInfo, Provider } from './types.ts';

const info = (id: string, contextLength: number | null = 4_096): ModelInfo => ({
  id,
  ownedBy: 'test',
  capabilities: ['chat'],
  contextLength,
});

/** The fake provider under another id, priority and model list: routing reads only those. */
function provider(id: string, priority: number, models: ModelInfo[]): Provider {
  return { ...fakeProvider, id, priority, listModels: () => models };
}

function registryOf(providers: Provider[]): ProviderRegistry {
  const sorted = [...providers].sort((a, b) => a.priority - b.priority);
  return {
    providers: sorted,
    providersFor(modelId) {
      const serving = sorted.filter((p) => p.listModels().some((model) => model.id === modelId));
      if (serving.length === 0) throw new NotFoundError(`model ${modelId} does not exist`, { code: 'model_not_found' });
      return serving;
    },
    listModels: () => [],
    healthCheck: async () => ({}),
    close: async () => {},
  };
}

function settingsOf(): RoutingSettings & {
  providers: Record<string, { enabled: boolean; priority: number }>;
  models: Record<string, { enabled: boolean; contextLength?: number }>;
  bump(): void;
} {
  let revision = 0;
  const providers: Record<string, { enabled: boolean; priority: number }> = {};
  const models: Record<string, { enabled: boolean; contextLength?: number }> = {};
  return {
    providers,
    models,
    bump: () => {
      revision++;
    },
    revision: () => revision,
    provider: (id) => providers[id],
    model: (id) => models[id],
  };
}

const local = provider('local', 0, [info('shared', 512), info('local-only')]);
const cloud = provider('cloud', 10, [info('shared', 8_192), info('cloud-only', null)]);
const ids = (providers: readonly Provider[]) => providers.map((p) => p.id);

describe('withRoutingSettings', () => {
  it('routes as configured while nothing is set', () => {
    const routed = withRoutingSettings(registryOf([cloud, local]), settingsOf());
    expect(ids(routed.providersFor('shared'))).toEqual(['local', 'cloud']);
    expect(routed.listModels().map((model) => [model.id, model.providerId, model.contextLength])).toEqual([
      ['shared', 'local', 512],
      ['local-only', 'local', 4_096],
      ['cloud-only', 'cloud', null],
    ]);
    expect(() => routed.providersFor('missing')).toThrow(NotFoundError);
  });

  it('reorders failover by the operator’s priority, and skips a disabled provider', () => {
    const settings = settingsOf();
    const routed: ProviderRegistry = withRoutingSettings(registryOf([local, cloud]), settings);
    settings.providers.cloud = { enabled: true, priority: -1 };
    settings.bump();
    expect(ids(routed.providersFor('shared'))).toEqual(['cloud', 'local']);
    expect(routed.listModels().find((model) => model.id === 'shared')?.providerId).toBe('cloud');

    settings.providers.local = { enabled: false, priority: 0 };
    settings.bump();
    expect(ids(routed.providersFor('shared'))).toEqual(['cloud']);
    // A model only a disabled provider has is unavailable (503), and not listed.
    expect(() => routed.providersFor('local-only')).toThrow(UnavailableError);
    expect(routed.listModels().map((model) => model.id)).toEqual(['shared', 'cloud-only']);
    expect(routed.providers).toHaveLength(2);
  });

  it('hides a disabled model (404) and applies a context override', () => {
    const settings = settingsOf();
    const routed = withRoutingSettings(registryOf([local, cloud]), settings);
    settings.models['local-only'] = { enabled: false };
    settings.models['cloud-only'] = { enabled: true, contextLength: 2_000 };
    settings.bump();
    expect(() => routed.providersFor('local-only')).toThrow(
      expect.objectContaining({ status: 404, code: 'model_not_found' }),
    );
    expect(routed.listModels().map((model) => [model.id, model.contextLength])).toEqual([
      ['shared', 512],
      ['cloud-only', 2_000],
    ]);
  });

  it('rebuilds its routes only when the revision changes', () => {
    const settings = settingsOf();
    const routed = withRoutingSettings(registryOf([local, cloud]), settings);
    expect(ids(routed.providersFor('shared'))).toEqual(['local', 'cloud']);
    settings.providers.local = { enabled: false, priority: 0 };
    expect(ids(routed.providersFor('shared'))).toEqual(['local', 'cloud']);
    settings.bump();
    expect(ids(routed.providersFor('shared'))).toEqual(['cloud']);
  });
});
