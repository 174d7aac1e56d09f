/**
 * A SheetGate from the PriceRegistry: a sheet is admitted when the hash anchored for its epoch
 * (`epochAt(effectiveFromMs)`) equals `priceSheetHash(sheet)`.
 *
 * Exempt: a sheet taking effect in or before the registry's deployment epoch. The contract anchors only epochs that
 * have not begun, so no such sheet could have been anchored; this covers the embedded default sheet (effective from
 * 0) and any sheet scheduled before the registry existed. Every later sheet needs its anchor.
 *
 * Not anchored, mode `refuse` (the default with a chain): the sheet is never in force; the one before it stays, with
 * an error log and `perdiem_price_sheets_unanchored_total{outcome="refused"}`. Mode `warn`: it is in force anyway,
 * with a warning log and `{outcome="warned"}`. Either is reported once per sheet, when it reaches its start.
 *
 * `admits` answers from the anchors last read (the hot path is synchronous); `refresh` reads the anchors of the
 * book's sheets not yet known final. An anchor read at least `finalAfterMs` after its epoch began is final (the
 * contract refuses writes once the epoch runs) and is not read again.
 */
import type { Logger } from 'pino';
import { type Clock, epochAt, epochStartMs } from '../../core/epoch.ts';
import { priceSheetHash, type SheetHash } from '../../core/priceSheetHash.ts';
import type { PriceBook, PriceSheet } from '../../core/pricing.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { anchorLimits } from './anchorLimits.ts';
import type { SheetGate } from './sheetGate.ts';

export const unanchoredPricesModes = ['refuse', 'warn'] as const;
export type UnanchoredPricesMode = (typeof unanchoredPricesModes)[number];

export interface AnchorGateOptions {
  /** The hash anchored for `epoch` (zero when none): `chain/priceRegistry.ts` readAnchor. */
  readAnchor: (epoch: number) => Promise<{ hash: SheetHash }>;
  /** The registry's deploymentEpoch(): sheets taking effect in or before it are exempt. */
  deploymentEpoch: number;
  epochSeconds: number;
  mode: UnanchoredPricesMode;
  clock: Clock;
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'observeUnanchoredSheet'>;
}

export interface AnchorGate extends SheetGate {
  /** The epoch a sheet needs its anchor for, or null when it is exempt. */
  anchorEpochOf(sheet: PriceSheet): number | null;
}

/** Hashing a sheet serializes it: done once per sheet object. */
const hashes = new WeakMap<PriceSheet, SheetHash>();

export function sheetHashOf(sheet: PriceSheet): SheetHash {
  let hash = hashes.get(sheet);
  if (hash === undefined) {
    hash = priceSheetHash(sheet);
    hashes.set(sheet, hash);
  }
  return hash;
}

export function createAnchorGate(options: AnchorGateOptions): AnchorGate {
  const { epochSeconds, deploymentEpoch, mode, logger } = options;
  /** epoch → the hash anchored for it when last read. */
  const anchors = new Map<number, SheetHash>();
  const finalEpochs = new Set<number>();
  const reported = new Set<SheetHash>();
  const announcedMissing = new Set<SheetHash>();

  const anchorEpochOf = (sheet: PriceSheet) => {
    const epoch = epochAt(sheet.effectiveFromMs, epochSeconds);
    return epoch <= deploymentEpoch ? null : epoch;
  };

  const report = (sheet: PriceSheet, epoch: number, hash: SheetHash) => {
    if (reported.has(hash)) return;
    reported.add(hash);
    const fields = { sheetHash: hash, epoch, effectiveFromMs: sheet.effectiveFromMs, anchoredHash: anchors.get(epoch) };
    if (mode === 'refuse') {
      logger.error(
        fields,
        'price sheet NOT anchored on chain for its epoch: refused, the previous sheet stays in force',
      );
      options.metrics.observeUnanchoredSheet('refused');
    } else {
      logger.warn(
        fields,
        'price sheet NOT anchored on chain for its epoch: in force anyway (--unanchored-prices warn)',
      );
      options.metrics.observeUnanchoredSheet('warned');
    }
  };

  return {
    anchorEpochOf,
    admits(sheet) {
      const epoch = anchorEpochOf(sheet);
      if (epoch === null) return true;
      const hash = sheetHashOf(sheet);
      if (anchors.get(epoch) === hash) return true;
      report(sheet, epoch, hash);
      return mode === 'warn';
    },
    async refresh(book: PriceBook) {
      const nowMs = options.clock();
      const epochs = new Map<number, PriceSheet>();
      for (const sheet of book.versions) {
        const epoch = anchorEpochOf(sheet);
        if (epoch !== null && !finalEpochs.has(epoch)) epochs.set(epoch, sheet);
      }
      await Promise.all(
        [...epochs].map(async ([epoch, sheet]) => {
          const { hash } = await options.readAnchor(epoch);
          anchors.set(epoch, hash);
          if (nowMs >= epochStartMs(epoch, epochSeconds) + anchorLimits.finalAfterMs) finalEpochs.add(epoch);
          const sheetHash = sheetHashOf(sheet);
          if (hash === sheetHash || nowMs >= sheet.effectiveFromMs || announcedMissing.has(sheetHash)) return;
          announcedMissing.add(sheetHash);
          logger.warn(
            { sheetHash, epoch, effectiveFromMs: sheet.effectiveFromMs, anchoredHash: hash },
            `scheduled price sheet is not anchored on chain yet: anchor it before its epoch begins (perdiem prices anchor --epoch ${epoch}), or it will be ${mode === 'refuse' ? 'refused' : 'in force unanchored'}`,
          );
        }),
      );
    },
  };
}
