/**
 * One in-process model: loaded on first use and kept loaded, with one generation context (one sequence), an
 * embedding context made on first use, and the queue that serialises every request to it.
 */
import type { Llama, LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp';
import { LlamaCompletion } from 'node-llama-cpp';
import { UnavailableError } from '../../../core/errors.ts';
import { providerLimits } from '../limits.ts';
import type { ChatTemplateChoice } from './chatPrompt.ts';
import { createSerialQueue, type SerialQueue } from './queue.ts';

export interface LlamaModelConfig {
  /** Public model id. */
  id: string;
  /** Path to the GGUF file. */
  path: string;
  /** Tokens of context; defaults to `llamaContextSizeDefault`, capped by the model's training context. */
  contextSize?: number;
  /** `model` uses the GGUF's chat template when it has one; `plain` always uses "Role: text" lines. */
  chatTemplate?: ChatTemplateChoice;
  ownedBy?: string;
}

export interface LoadedModel {
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  contextSize: number;
  embeddingContext(): Promise<LlamaEmbeddingContext>;
}

export interface ModelHost {
  readonly config: LlamaModelConfig;
  readonly queue: SerialQueue;
  readonly loaded: boolean;
  load(): Promise<LoadedModel>;
  dispose(): Promise<void>;
}

export interface ModelHostSettings {
  threads: number;
  queueLengthMax: number;
}

async function loadModel(llama: Llama, config: LlamaModelConfig, settings: ModelHostSettings): Promise<LoadedModel> {
  const model = await llama.loadModel({ modelPath: config.path, gpuLayers: 0 });
  const contextSize = Math.min(config.contextSize ?? providerLimits.llamaContextSizeDefault, model.trainContextSize);
  const context = await model.createContext({ contextSize, sequences: 1, threads: settings.threads });
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  let embedding: Promise<LlamaEmbeddingContext> | null = null;
  return {
    model,
    context,
    sequence,
    completion,
    contextSize: context.contextSize,
    embeddingContext() {
      embedding ??= model.createEmbeddingContext({ contextSize, threads: settings.threads });
      return embedding;
    },
  };
}

export function createModelHost(
  llama: () => Promise<Llama>,
  config: LlamaModelConfig,
  settings: ModelHostSettings,
): ModelHost {
  let loading: Promise<LoadedModel> | null = null;
  let loaded = false;
  return {
    config,
    queue: createSerialQueue({ name: config.id, lengthMax: settings.queueLengthMax }),
    get loaded() {
      return loaded;
    },
    load() {
      loading ??= llama()
        .then((runtime) => loadModel(runtime, config, settings))
        .then(
          (result) => {
            loaded = true;
            return result;
          },
          (error: unknown) => {
            loading = null;
            throw new UnavailableError(`model ${config.id} failed to load`, {
              code: 'model_load_failed',
              cause: error,
            });
          },
        );
      return loading;
    },
    async dispose() {
      if (loading === null) return;
      const current = await loading.catch(() => null);
      loading = null;
      loaded = false;
      if (current === null) return;
      current.completion.dispose();
      await current.context.dispose();
      await current.model.dispose();
    },
  };
}
