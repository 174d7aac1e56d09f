/**
 * Runs one generation on a loaded model and reports exact token counts: prompt tokens from the tokenizer (plus the
 * BOS the engine prepends), completion tokens from the sequence's token meter (every sampled token, including an
 * end-of-generation token and stop-sequence tokens), and per chunk the tokens whose text was handed out.
 *
 * It also times the engine (EngineTiming): the prompt is evaluated first on its own (all but its last token, reusing
 * the prefix the sequence already holds), so that prefill and decode are timed apart. The generation then evaluates
 * the last prompt token to sample the first output token, and each output token to sample the next: one one-token
 * step per output token, which is what decode time is divided by.
 */
import type { LlamaText, Token } from 'node-llama-cpp';
import { InvalidRequestError } from '../../../core/errors.ts';
import type { FinishReason } from '../openaiShapes.ts';
import type { EngineTiming } from '../types.ts';
import type { LoadedModel } from './modelHost.ts';

export interface GenerationInput {
  /** Prompt tokens without BOS. */
  tokens: Token[];
  maxTokens: number | null;
  temperature: number;
  topP: number;
  seed: number | null;
  stopTriggers: ReadonlyArray<string | LlamaText>;
  signal: AbortSignal | undefined;
  /** Called for each piece of text released to the caller, with the number of tokens it covers. */
  onText?: (text: string, tokens: number) => void;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  engine: EngineTiming;
}

function bosOf(loaded: LoadedModel): Token | null {
  return loaded.model.tokens.shouldPrependBosToken ? loaded.model.tokens.bos : null;
}

export function promptTokenCount(loaded: LoadedModel, tokens: readonly Token[]): number {
  return tokens.length + (bosOf(loaded) === null ? 0 : 1);
}

const secondsOf = (startedMs: number) => (performance.now() - startedMs) / 1000;

/** Evaluates the prompt but its last token, as the generation will find it; returns what was evaluated, timed. */
async function evaluatePrompt(loaded: LoadedModel, tokens: readonly Token[]) {
  const bos = bosOf(loaded);
  const context = (bos === null ? [...tokens] : [bos, ...tokens]).slice(0, -1);
  const started = performance.now();
  await loaded.sequence.adaptStateToTokens(context, false);
  const fresh = context.slice(loaded.sequence.nextTokenIndex);
  if (fresh.length > 0) await loaded.sequence.evaluateWithoutGeneratingNewTokens(fresh);
  return { prefillTokens: fresh.length, prefillSeconds: secondsOf(started) };
}

export function assertFitsContext(loaded: LoadedModel, promptTokens: number): void {
  if (promptTokens >= loaded.contextSize) {
    throw new InvalidRequestError(
      `the prompt is ${promptTokens} tokens; this model's context is ${loaded.contextSize} tokens`,
      { code: 'context_length_exceeded', param: 'messages' },
    );
  }
}

export async function generate(loaded: LoadedModel, input: GenerationInput): Promise<GenerationResult> {
  const promptTokens = promptTokenCount(loaded, input.tokens);
  assertFitsContext(loaded, promptTokens);
  const meter = loaded.sequence.tokenMeter;
  const before = meter.getState();
  const prefill = await evaluatePrompt(loaded, input.tokens);
  const decodeStarted = performance.now();
  let pendingTokens = 0;
  const result = await loaded.completion.generateCompletionWithMeta(input.tokens, {
    maxTokens: input.maxTokens ?? 0,
    temperature: input.temperature,
    topP: input.topP,
    ...(input.seed === null ? {} : { seed: input.seed }),
    customStopTriggers: input.stopTriggers,
    signal: input.signal,
    // The gateway budgets max_tokens; a silent context shift would also change what a prompt means.
    disableContextShift: true,
    repeatPenalty: false,
    onToken: (tokens) => {
      pendingTokens += tokens.length;
    },
    onTextChunk: (text) => {
      input.onText?.(text, pendingTokens);
      pendingTokens = 0;
    },
  });
  const decodeSeconds = secondsOf(decodeStarted);
  const generated = meter.diff(before).usedOutputTokens;
  return {
    text: result.response,
    finishReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
    promptTokens,
    completionTokens: generated,
    engine: { ...prefill, decodeTokens: generated, decodeSeconds },
  };
}
