/** Every limit of the settings store, in one place, unit last. */
export const settingsLimits = {
  /** One stored value (a price sheet, the provider or model map) as JSON text. */
  valueBytesMax: 1024 * 1024,
  actorLengthMax: 255,
  noteLengthMax: 1_000,
  /** Records one `history` or `since` call returns. */
  recordsPerReadMax: 10_000,
} as const;
