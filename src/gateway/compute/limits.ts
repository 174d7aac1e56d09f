/** Limits of the compute measurements (see computeMeter.ts). */
export const computeLimits = {
  /**
   * The smallest weight a new reading gets in a rolling estimate: the first readings are averaged evenly (weight
   * 1/n), later ones move the estimate by at least this much, so it follows a model whose cost changes.
   */
  readingWeightMin: 0.05,
  /**
   * Once an estimate rests on `readingClipAfterSamples` readings, a new reading counts as at most this factor away
   * from it (either way): a request stalled by something else on the machine or at the upstream moves the estimate
   * a step, not all the way, while a lasting change still gets through in a few steps.
   */
  readingClipFactor: 4,
  readingClipAfterSamples: 3,
  /** Samples a model needs of its own before its predecessor's measurements stop standing in for it. */
  samplesMin: 20,
  /** How often changed estimates are written to the ledger (and once more on shutdown). */
  persistIntervalMs: 10_000,
  /** Predecessor links followed at most (a chain longer than this, or a cycle, stops there). */
  predecessorDepthMax: 8,
} as const;
