import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/errors.ts';
import { createProviderRegistry } from './registry.ts';

const deps = {
  now: () => 0,
  llama: () => Promise.reject(new Error('the llama runtime must not load for listing')),
};

describe('provider registry', () => {
  it('builds each provider kind from typed config and routes a model to its providers by priority', async () => {
    const registry = createProviderRegistry(
      [
        { kind: 'openai', id: 'cloud', priority: 10, upstreams: [], models: [{ id: 'shared' }, { id: 'cloud-only' }] },
        { kind: 'llama', id: 'local', priority: 0, models: [{ id: 'shared', path: '/nonexistent.gguf' }] },
      ],
      deps,
    );
    expect(registry.providersFor('shared').map((provider) => provider.id)).toEqual(['local', 'cloud']);
    expect(registry.providersFor('cloud-only').map((provider) => provider.kind)).toEqual(['openai']);
    expect(registry.listModels().map((model) => [model.id, model.providerId])).toEqual([
      ['shared', 'local'],
      ['cloud-only', 'cloud'],
    ]);
    expect(() => registry.providersFor('missing')).toThrow(NotFoundError);
    const health = await registry.healthCheck();
    expect(health.local?.ok).toBe(false);
    await registry.close();
  });

  it('rejects two providers with the same id', () => {
    expect(() =>
      createProviderRegistry(
        [
          { kind: 'llama', id: 'x', models: [] },
          { kind: 'openai', id: 'x', upstreams: [], models: [] },
        ],
        deps,
      ),
    ).toThrow(/duplicate/);
  });
});
