/** Every limit of the operator settings, in one place, unit last. */
export const operatorSettingsLimits = {
  /** How often a gateway reads changes other replicas made. */
  pollIntervalMsDefault: 2_000,
  /** Tries of one change when another replica's change to the same kind landed in between. */
  changeAttemptsMax: 3,
  /** Records one refresh reads per round trip. */
  refreshPageSizeMax: 1_000,
  /** A rate limit, requests or tokens per minute. */
  perMinuteMax: 1_000_000_000,
  /** A provider's priority, either way of 0 (lower runs first). */
  priorityAbsMax: 1_000_000,
  /** A model's context override, in tokens. */
  contextLengthMax: 100_000_000,
  idLengthMax: 256,
  /** Records one history read returns. */
  historyLimitDefault: 50,
  historyLimitMax: 1_000,
} as const;
