/**
 * The calibration API's shapes as the operator page reads them (/admin/prices/proposal, /announce, /history), and the
 * pure pieces the price panels draw from: which fields a price has, a change in basis points as a signed percent, and
 * one field's price over time as the steps of a chart.
 */
import { priceUnits } from '../../src/gateway/kinds/priceUnits.ts';

/** One model's price as the API writes it: USD decimal strings per 1M units (or per image), told apart by `kind`. */
export type PriceJson = { kind: string; [field: string]: unknown };

export interface CuJson {
  inputPer1M?: string;
  outputPer1M?: string;
  perImage?: string;
  samples: number;
  inheritedFrom: string | null;
}

export interface ProposedModel {
  model: string;
  kind: string;
  /** Null for a model that has no price yet. */
  current: PriceJson | null;
  proposed: PriceJson | null;
  /** Per field, the change from current to proposed in basis points (absent when there is nothing to compare). */
  changeBps: Record<string, number>;
  /** True when some rate was held to the step bound. */
  clamped: boolean;
  /** The CU estimate the proposal is calibrated from; null when the model has none (it keeps its price). */
  cu: CuJson | null;
}

export interface ProposalView {
  epoch: number;
  effectiveFrom: string;
  cuPriceUsd: string;
  marginBps: number;
  stepBpsMax: number;
  models: ProposedModel[];
}

export interface Announced {
  effectiveFrom: string;
  epoch: number;
  hash: string;
  sheet: { effectiveFrom: string; models: Record<string, PriceJson> };
  override: { reason: string } | null;
}

export interface HistoryPoint {
  effectiveFrom: string;
  epoch: number;
  hash: string;
  price: PriceJson;
  override: { reason: string } | null;
}

export interface PriceHistory {
  model: string;
  points: HistoryPoint[];
}

/** A price's USD fields (decimal strings), in the order the price lists them; `kind` and nested maps are not. */
export function priceFields(price: PriceJson | null): string[] {
  if (price === null) return [];
  return Object.entries(price)
    .filter(([field, value]) => field !== 'kind' && typeof value === 'string')
    .map(([field]) => field);
}

/** The fields of either price, current first, so a field only one of them has still gets a row. */
export function fieldsOf(model: ProposedModel): string[] {
  return [...new Set([...priceFields(model.current), ...priceFields(model.proposed)])];
}

/** A field's label from its price unit ("Input $ / 1M tokens"); else the field's own name. */
export function fieldLabel(kind: string, field: string): string {
  const unit = Object.values(priceUnits).find((u) => u.kind === kind);
  if (field === 'perImage') return '$ / image';
  return unit?.editable.find((f) => f.field === field)?.label ?? field;
}

/** Basis points as a signed percent with two decimals, exactly: 2000 → "+20.00%", -125 → "−1.25%", 0 → "0.00%". */
export function formatChangeBps(bps: number): string {
  const abs = Math.abs(Math.trunc(bps));
  const text = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}%`;
  if (bps > 0) return `+${text}`;
  if (bps < 0) return `−${text}`;
  return text;
}

/** The class that colours a change: up, down or none. */
export function changeClass(bps: number): 'up' | 'down' | 'flat' {
  return bps > 0 ? 'up' : bps < 0 ? 'down' : 'flat';
}

export interface PriceStep {
  /** Unix ms the price takes effect. */
  fromMs: number;
  /** The USD price as the API wrote it, for labels. */
  usd: string;
  /** The same as a number, only for placing it on the chart. */
  value: number;
  /** Takes effect after `nowMs`: announced, not yet in force. */
  scheduled: boolean;
  epoch: number;
  hash: string;
}

/** One field's price over time, oldest first, for the versions that price it. */
export function stepsOf(points: readonly HistoryPoint[], field: string, nowMs: number): PriceStep[] {
  return points.flatMap((point) => {
    const usd = point.price[field];
    if (typeof usd !== 'string') return [];
    const fromMs = Date.parse(point.effectiveFrom);
    return [{ fromMs, usd, value: Number(usd), scheduled: fromMs > nowMs, epoch: point.epoch, hash: point.hash }];
  });
}

/** 0x1234abcd…cdef */
export function shortHash(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 10)}…${hash.slice(-4)}` : hash;
}
