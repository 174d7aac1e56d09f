/**
 * Price sheets and the cost of a usage record. Every price is an integer nano-USD amount; token and character
 * prices are per 1M units. Each cost line rounds UP on its own, and a request's cost is the sum of its lines, so the
 * operator is never paid less than the sheet says (and at most 1 nano-USD more per line).
 */
import { InvalidRequestError } from './errors.ts';
import { maxNano, mulDivDown, mulDivUp, type NanoUsd } from './money.ts';

export const tokensPerPriceUnit = 1_000_000;
export const charactersPerPriceUnit = 1_000_000;

/**
 * Text prices, in nano-USD per 1M tokens. Cache prices default to the input price, the reasoning price to the output
 * price.
 */
export interface TextRates {
  inputPer1M: NanoUsd;
  outputPer1M: NanoUsd;
  cacheReadPer1M?: NanoUsd;
  cacheWritePer1M?: NanoUsd;
  reasoningPer1M?: NanoUsd;
}

export interface TextPrice extends TextRates {
  kind: 'text';
  /** Above `thresholdTokens` prompt tokens (input + cache read + cache write), every token is priced at these rates. */
  longContext?: TextRates & { thresholdTokens: number };
}

export interface ImagePrice {
  kind: 'image';
  /** Price of one image when no resolution/quality entry matches. */
  perImage?: NanoUsd;
  /** Keyed "1024x1024" or "1024x1024:hd"; the resolution+quality key wins over the resolution key. */
  byResolution?: Readonly<Record<string, NanoUsd>>;
}

export interface EmbeddingPrice {
  kind: 'embedding';
  inputPer1M: NanoUsd;
}

export interface SpeechPrice {
  kind: 'speech';
  per1MCharacters: NanoUsd;
}

export type ModelPrice = TextPrice | ImagePrice | EmbeddingPrice | SpeechPrice;

/** One version of the operator's prices. A request is priced by the sheet in force when it started. */
export interface PriceSheet {
  effectiveFromMs: number;
  models: Readonly<Record<string, ModelPrice>>;
}

/** All versions, oldest first, with strictly increasing `effectiveFromMs`. */
export interface PriceBook {
  versions: readonly PriceSheet[];
}

/**
 * What a request used. Text counts are disjoint, each priced once: `inputTokens` excludes the cache reads and writes,
 * `outputTokens` excludes the reasoning tokens (an upstream's prompt_tokens and completion_tokens include them).
 */
export type Usage =
  | {
      kind: 'text';
      inputTokens: number;
      outputTokens: number;
      cacheReadTokens?: number;
      cacheWriteTokens?: number;
      reasoningTokens?: number;
    }
  | { kind: 'image'; images: number; resolution?: string; quality?: string }
  | { kind: 'embedding'; inputTokens: number }
  | { kind: 'speech'; characters: number };

/** True when a usage counts nothing: a request that delivered nothing is voided rather than charged. */
export function isEmptyUsage(usage: Usage): boolean {
  switch (usage.kind) {
    case 'text':
      return textTokensOf(usage) === 0;
    case 'embedding':
      return usage.inputTokens === 0;
    case 'image':
      return usage.images === 0;
    case 'speech':
      return usage.characters === 0;
  }
}

/** Every token a text usage counts: prompt (input and cache) and completion (output and reasoning). */
export function textTokensOf(usage: Extract<Usage, { kind: 'text' }>): number {
  return promptTokensOf(usage) + usage.outputTokens + (usage.reasoningTokens ?? 0);
}

function promptTokensOf(usage: Extract<Usage, { kind: 'text' }>): number {
  return usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
}

/** One priced line: `amountNano = ceil(units × unitPriceNano / priceUnit)`. */
export interface CostLine {
  sku: string;
  units: number;
  unitPriceNano: NanoUsd;
  /** How many units `unitPriceNano` buys: 1_000_000 for tokens and characters, 1 for images. */
  priceUnit: number;
  amountNano: NanoUsd;
}

export interface Cost {
  lines: CostLine[];
  totalNano: NanoUsd;
}

export function emptyPriceBook(): PriceBook {
  return { versions: [] };
}

/** Adds a version. Versions only go forward, so requests in flight keep the sheet they were quoted on. */
export function addPriceSheet(book: PriceBook, sheet: PriceSheet): PriceBook {
  const last = book.versions.at(-1);
  if (last && sheet.effectiveFromMs <= last.effectiveFromMs) {
    throw new InvalidRequestError(
      `price sheet effectiveFrom ${sheet.effectiveFromMs} must be after the latest version (${last.effectiveFromMs})`,
      { code: 'price_sheet_out_of_order', param: 'effectiveFrom' },
    );
  }
  for (const [model, price] of Object.entries(sheet.models)) validatePrice(model, price);
  return { versions: [...book.versions, sheet] };
}

/** The sheet in force at `atMs`, or null before the first version. */
export function priceSheetAt(book: PriceBook, atMs: number): PriceSheet | null {
  for (let i = book.versions.length - 1; i >= 0; i--) {
    const sheet = book.versions[i]!;
    if (sheet.effectiveFromMs <= atMs) return sheet;
  }
  return null;
}

/** The price of `model` at `atMs`; a model with no price cannot be served. */
export function modelPriceAt(book: PriceBook, model: string, atMs: number): ModelPrice {
  const price = priceSheetAt(book, atMs)?.models[model];
  if (!price) throw new InvalidRequestError(`model ${model} has no price`, { code: 'model_not_found', param: 'model' });
  return price;
}

/** The cost of one usage record under one price. */
export function costOf(price: ModelPrice, usage: Usage): Cost {
  if (price.kind !== usage.kind) {
    throw new InvalidRequestError(`a ${usage.kind} usage cannot be priced as ${price.kind}`, {
      code: 'usage_kind_mismatch',
    });
  }
  const lines = linesOf(price, usage);
  let totalNano = 0n;
  for (const line of lines) totalNano += line.amountNano;
  return { lines, totalNano };
}

function linesOf(price: ModelPrice, usage: Usage): CostLine[] {
  switch (price.kind) {
    case 'text':
      return textLines(price, usage as Extract<Usage, { kind: 'text' }>);
    case 'image':
      return [imageLine(price, usage as Extract<Usage, { kind: 'image' }>)];
    case 'embedding': {
      const { inputTokens } = usage as Extract<Usage, { kind: 'embedding' }>;
      return [line('embedding.input', inputTokens, price.inputPer1M, tokensPerPriceUnit)];
    }
    case 'speech': {
      const { characters } = usage as Extract<Usage, { kind: 'speech' }>;
      return [line('speech.characters', characters, price.per1MCharacters, charactersPerPriceUnit)];
    }
  }
}

/** The rates that apply to a prompt of `promptTokens`, and the SKU suffix that says which tier. */
export function textRatesFor(price: TextPrice, promptTokens: number): { rates: TextRates; tier: '' | '.long' } {
  const long = price.longContext;
  if (long && promptTokens > long.thresholdTokens) return { rates: long, tier: '.long' };
  return { rates: price, tier: '' };
}

function textLines(price: TextPrice, usage: Extract<Usage, { kind: 'text' }>): CostLine[] {
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const reasoning = usage.reasoningTokens ?? 0;
  const { rates, tier } = textRatesFor(price, promptTokensOf(usage));
  const lines = [
    line(`text.input${tier}`, usage.inputTokens, rates.inputPer1M, tokensPerPriceUnit),
    line(`text.output${tier}`, usage.outputTokens, rates.outputPer1M, tokensPerPriceUnit),
  ];
  if (reasoning > 0) {
    lines.push(line(`text.reasoning${tier}`, reasoning, rates.reasoningPer1M ?? rates.outputPer1M, tokensPerPriceUnit));
  }
  if (cacheRead > 0) {
    lines.push(line(`text.cache_read${tier}`, cacheRead, rates.cacheReadPer1M ?? rates.inputPer1M, tokensPerPriceUnit));
  }
  if (cacheWrite > 0) {
    lines.push(
      line(`text.cache_write${tier}`, cacheWrite, rates.cacheWritePer1M ?? rates.inputPer1M, tokensPerPriceUnit),
    );
  }
  return lines;
}

function imageLine(price: ImagePrice, usage: Extract<Usage, { kind: 'image' }>): CostLine {
  const table = price.byResolution ?? {};
  const candidates: [string, NanoUsd | undefined][] = [];
  if (usage.resolution && usage.quality) {
    candidates.push([`${usage.resolution}:${usage.quality}`, table[`${usage.resolution}:${usage.quality}`]]);
  }
  if (usage.resolution) candidates.push([usage.resolution, table[usage.resolution]]);
  for (const [key, unitPrice] of candidates) {
    if (unitPrice !== undefined) return line(`image.${key}`, usage.images, unitPrice, 1);
  }
  if (price.perImage === undefined) {
    throw new InvalidRequestError(`no price for image size ${usage.resolution ?? '(default)'}`, {
      code: 'image_size_not_priced',
      param: 'size',
    });
  }
  return line('image', usage.images, price.perImage, 1);
}

function line(sku: string, units: number, unitPriceNano: NanoUsd, priceUnit: number): CostLine {
  if (!Number.isSafeInteger(units) || units < 0) {
    throw new InvalidRequestError(`usage units must be a non-negative integer, got ${units}`, {
      code: 'invalid_usage',
    });
  }
  return {
    sku,
    units,
    unitPriceNano,
    priceUnit,
    amountNano: mulDivUp(BigInt(units), unitPriceNano, BigInt(priceUnit)),
  };
}

/**
 * The highest per-token rates a text request can meet, for bounds: a prompt token may be read as input, a cache read
 * or a cache write, an answer token as output or reasoning.
 */
export function boundingRates(rates: TextRates): { promptPer1M: NanoUsd; completionPer1M: NanoUsd } {
  const promptPer1M = maxNano(
    rates.inputPer1M,
    maxNano(rates.cacheReadPer1M ?? rates.inputPer1M, rates.cacheWritePer1M ?? rates.inputPer1M),
  );
  return { promptPer1M, completionPer1M: maxNano(rates.outputPer1M, rates.reasoningPer1M ?? rates.outputPer1M) };
}

/**
 * Each line rounds up on its own, so a count split over k priced lines may cost up to k − 1 nano-USD more than on
 * one line: a prompt over input, cache-read and cache-write lines, an answer over output and reasoning lines. Lines
 * at a zero rate cost nothing and add nothing.
 */
function splitSlackNano(rates: TextRates): { promptNano: NanoUsd; completionNano: NanoUsd } {
  const paid = (...per1M: NanoUsd[]) => BigInt(per1M.filter((rate) => rate > 0n).length);
  const prompt = paid(
    rates.inputPer1M,
    rates.cacheReadPer1M ?? rates.inputPer1M,
    rates.cacheWritePer1M ?? rates.inputPer1M,
  );
  const completion = paid(rates.outputPer1M, rates.reasoningPer1M ?? rates.outputPer1M);
  return {
    promptNano: prompt > 1n ? prompt - 1n : 0n,
    completionNano: completion > 1n ? completion - 1n : 0n,
  };
}

/** The most a prompt of `promptTokens` can cost, however the upstream splits it over input and cache lines. */
function promptBoundNano(rates: TextRates, promptTokens: number): NanoUsd {
  return (
    mulDivUp(BigInt(promptTokens), boundingRates(rates).promptPer1M, BigInt(tokensPerPriceUnit)) +
    splitSlackNano(rates).promptNano
  );
}

/**
 * Budget-bounded generation: the most output tokens a prompt of `promptTokens` can be followed by without the bound
 * on its cost (`maxTextCost`) exceeding `budgetNano` (rounding DOWN, so the reservation is a true upper bound).
 * Returns 0 when the prompt alone does not fit and `Number.MAX_SAFE_INTEGER` when output is free.
 */
export function maxOutputTokensWithin(price: TextPrice, promptTokens: number, budgetNano: NanoUsd): number {
  const { rates } = textRatesFor(price, promptTokens);
  const fixed = promptBoundNano(rates, promptTokens) + splitSlackNano(rates).completionNano;
  if (fixed > budgetNano) return 0;
  const { completionPer1M } = boundingRates(rates);
  if (completionPer1M === 0n) return Number.MAX_SAFE_INTEGER;
  // ceil(n × p / 1e6) <= r  ⟺  n × p <= r × 1e6, so n = floor(r × 1e6 / p).
  const tokens = mulDivDown(budgetNano - fixed, BigInt(tokensPerPriceUnit), completionPer1M);
  return tokens > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(tokens);
}

/**
 * The most a text request can cost, the amount to reserve: `promptTokens` and `maxOutputTokens` each at the highest
 * rate they can be priced at, however the upstream splits them (cache, reasoning), with each split's rounding.
 */
export function maxTextCost(price: TextPrice, promptTokens: number, maxOutputTokens: number): NanoUsd {
  const { rates } = textRatesFor(price, promptTokens);
  const completion = mulDivUp(
    BigInt(maxOutputTokens),
    boundingRates(rates).completionPer1M,
    BigInt(tokensPerPriceUnit),
  );
  return promptBoundNano(rates, promptTokens) + completion + splitSlackNano(rates).completionNano;
}

function validatePrice(model: string, price: ModelPrice): void {
  const amounts: (NanoUsd | undefined)[] = [];
  switch (price.kind) {
    case 'text':
      amounts.push(price.inputPer1M, price.outputPer1M, price.cacheReadPer1M, price.cacheWritePer1M);
      amounts.push(price.reasoningPer1M);
      if (price.longContext) {
        const long = price.longContext;
        amounts.push(long.inputPer1M, long.outputPer1M, long.cacheReadPer1M, long.cacheWritePer1M, long.reasoningPer1M);
        if (!Number.isSafeInteger(long.thresholdTokens) || long.thresholdTokens < 0) {
          throw new InvalidRequestError(`${model}: invalid long-context threshold`, { code: 'invalid_price' });
        }
      }
      break;
    case 'image':
      amounts.push(price.perImage, ...Object.values(price.byResolution ?? {}));
      break;
    case 'embedding':
      amounts.push(price.inputPer1M);
      break;
    case 'speech':
      amounts.push(price.per1MCharacters);
      break;
  }
  for (const amount of amounts) {
    if (amount !== undefined && (typeof amount !== 'bigint' || amount < 0n)) {
      throw new InvalidRequestError(`${model}: prices must be non-negative nano-USD integers`, {
        code: 'invalid_price',
      });
    }
  }
}
