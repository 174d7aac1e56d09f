/**
 * Loads the llama.cpp runtime from node-llama-cpp's prebuilt npm binaries: CPU only, never a source build or a
 * download (there is no network at runtime). Call once per process and pass the result to the llama provider.
 */
import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp';

export type { Llama };

export interface LlamaRuntimeOptions {
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export async function loadLlamaRuntime(options: LlamaRuntimeOptions = {}): Promise<Llama> {
  return await getLlama({
    build: 'never',
    skipDownload: true,
    gpu: false,
    progressLogs: false,
    logLevel: LlamaLogLevel[options.logLevel ?? 'error'],
  });
}
