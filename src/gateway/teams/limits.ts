/** Limits of the team routes, in one place. */

/** Entries one `GET /orgs/:org/audit` page returns at most, and by default. */
export const auditPageMax = 1_000;
export const auditPageDefault = 100;
/** Alert thresholds one budget may carry. */
export const alertThresholdsMax = 10;
/** Names of organizations and projects, in characters. */
export const teamNameCharsMax = 128;
/** A webhook URL, in characters. */
export const webhookUrlCharsMax = 2_048;
