/**
 * A request kind (chat, completions, embeddings, images, …): everything the gateway knows about one OpenAI route,
 * in one module: its request schema, the price it is charged by, its quote (the most it may cost), how it calls a
 * provider and reads the usage from the answer. `flow.ts` runs every kind through the same steps:
 * validate → quote → reserve → provider → meter → settle.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ModelPrice, Usage } from '../../core/pricing.ts';
import type { Admission, GatewayDeps, GatewayEnv } from '../env.ts';
import type { Meter, ReservationBounds } from '../metering/meter.ts';
import type { StoredAnswer } from '../metering/storedAnswer.ts';
import type { CallOptions, Capability, Provider } from '../providers/index.ts';

export type { ReservationBounds };

/** A request that passed validation: its parsed body and what validation learned about it. */
export interface Admitted<B> {
  body: B;
  admission: Admission;
}

/** What a kind's `serve` is given: the request, its quote, the open meter and the way to call providers. */
export interface Run<B, Q> {
  deps: GatewayDeps;
  c: Context<GatewayEnv>;
  request: Admitted<B>;
  quote: Q;
  meter: Meter;
  /** Aborting it stops the upstream call (the client's own abort is forwarded to it). */
  abort: AbortController;
  /** Calls each provider serving the model in priority order, the next only when one failed before its first byte. */
  call<T>(fn: (provider: Provider, options: CallOptions) => Promise<T>): Promise<T>;
}

/** The answer to keep with the charge and send with its cost: JSON, or bytes (audio) with their content type. */
export type Answer = Exclude<StoredAnswer, { type: 'sse' }>;

/**
 * What `serve` ended with: an answer and the usage it is charged for (the flow settles and responds), or a response
 * that owns its own settle (a stream: its body settles when it ends).
 */
export type Served = { type: 'answer'; answer: Answer; usage: Usage } | { type: 'handedOff'; response: Response };

export interface RequestKind<
  B extends { model: string },
  P extends ModelPrice,
  Q extends ReservationBounds,
  C extends Capability = Capability,
> {
  /** The route, under /v1 and /api/v1. */
  path: string;
  /** For /openapi.json. */
  summary: string;
  schema: z.ZodType<B>;
  /** What a model must declare to be asked this kind of request. */
  capability: C;
  /** Fields only Venice defines: accepted by the schema, then dropped before the upstream sees them. */
  veniceOnlyFields: readonly string[];
  /** An upper bound on prompt tokens, and the client's max_tokens: what the rate limiter takes on admission. */
  promptTokensMax(body: B): number;
  maxTokens(body: B): number | null;
  /** The price this kind is charged by, from the model's; a 400 when the model is not priced for this kind. */
  priceOf(model: string, price: ModelPrice): P;
  quote(price: P, request: Admitted<B>): Q;
  serve(run: Run<B, Q>): Promise<Served>;
  /** Tokens a usage counts for in the TPM buckets (0 for kinds not counted in tokens). */
  tokensOf(usage: Usage): number;
  /** Usage delivered before a failure, to be charged (a text call cut off after its first byte); else null. */
  deliveredOf(error: unknown): Usage | null;
  /**
   * Usage an upstream billed with a failure that delivered nothing (a 5xx with a usage body): the operator's loss,
   * recorded with the void. Absent or null: nothing known.
   */
  lostOf?(error: unknown): Usage | null;
}

/** Any kind, for lists of kinds (each entry keeps its own types where it is defined). */
// biome-ignore lint/suspicious/noExplicitAny: the list holds kinds of different body, price and quote types.
export type AnyRequestKind<C extends Capability = Capability> = RequestKind<any, any, any, C>;
