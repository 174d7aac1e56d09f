/**
 * Every price unit, keyed by its `ModelPrice` kind: a typed map that does not compile without an entry for each
 * variant of `core/pricing`'s `ModelPrice`. The price sheet JSON, /v1/models, the CLI and the operator page read
 * units from here rather than switching on their names. Web-safe (zod and `core/` only).
 */
import { z } from 'zod';
import type { ModelPrice } from '../../core/pricing.ts';
import { embeddingUnit } from './embeddings/embeddingUnit.ts';
import { imageUnit } from './images/imageUnit.ts';
import type { PriceUnit } from './priceUnit.ts';
import { speechUnit } from './speech/speechUnit.ts';
import { textUnit } from './text/textUnit.ts';

type PriceUnits = { [K in ModelPrice['kind']]: PriceUnit<Extract<ModelPrice, { kind: K }>> };

/** In the order refusals list them ("must be one of text, embedding, …"). */
export const priceUnits = {
  text: textUnit,
  embedding: embeddingUnit,
  image: imageUnit,
  speech: speechUnit,
} satisfies PriceUnits;

type AnyUnit = PriceUnit<ModelPrice>;

/**
 * The unit of a price. The map's type ties each kind to its variant, but TypeScript cannot follow that through an
 * index by a union key, so the lookup is widened here, once.
 */
export function priceUnitOf(kind: ModelPrice['kind']): AnyUnit {
  return (priceUnits as PriceUnits)[kind] as AnyUnit;
}

const [firstUnit, ...otherUnits] = Object.values(priceUnits).map((unit) => unit.json);

/** One model's price as operators write it: one of the units' JSON shapes, told apart by `kind`. */
export const modelPriceJsonSchema = z.discriminatedUnion('kind', [firstUnit!, ...otherUnits]);

/** A parsed price JSON (any unit's) to its nano-USD price. */
export function priceFromJson(json: { kind: ModelPrice['kind'] }): ModelPrice {
  return priceUnitOf(json.kind).fromJson(json);
}

/** `model_spec.pricing` in /v1/models; null when the model has no price. */
export function pricingOf(price: ModelPrice | null): Record<string, unknown> | null {
  return price === null ? null : priceUnitOf(price.kind).pricing(price);
}

/** One line for people (CLI, operator page). */
export function describePrice(price: ModelPrice): string {
  return priceUnitOf(price.kind).describe(price);
}
