/** The provider layer's public surface, for the gateway. */

export { providerLimits } from './limits.ts';
export { demoModelName, demoModelPathDefault, writeDemoModel } from './llama/demoModel.ts';
export type { LlamaModelConfig, LlamaProviderConfig } from './llama/llamaProvider.ts';
export { loadLlamaRuntime } from './llama/runtime.ts';
export type { OpenAiModelConfig, OpenAiProviderConfig, OpenAiTimeouts, OpenAiUpstreamConfig } from './openai/config.ts';
export {
  createProvider,
  createProviderRegistry,
  type ProviderConfig,
  type ProviderDeps,
  type ProviderRegistry,
} from './registry.ts';
export type * from './types.ts';
export { requestedMaxTokens, stopSequences, toOpenAiUsage } from './types.ts';
