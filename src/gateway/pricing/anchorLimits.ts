/** Limits of the price-sheet anchor gate (`anchorGate.ts`), in one place. Units are last in each name. */
import { minuteMs, secondMs } from '../../core/epoch.ts';

export const anchorLimits = {
  /** How often the gateway re-reads the anchors of the sheets it has not admitted yet, and of those not final. */
  refreshIntervalMs: 30 * secondMs,
  /**
   * How long before a scheduled sheet's start the gateway reads its anchor once more, so an anchored sheet is in
   * force from its first second even between periodic reads.
   */
  refreshLeadMs: 5 * secondMs,
  /**
   * How long after an epoch's start an anchor read is taken as final. The contract refuses any write once the chain
   * has reached the epoch; this margin covers a chain whose block time lags the gateway's clock.
   */
  finalAfterMs: minuteMs,
} as const;
