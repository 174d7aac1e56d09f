/**
 * The ledger: who may spend what, and an append-only record of every charge. One interface, two adapters
 * (SQLite for the embedded default, PostgreSQL for scale-out), one conformance suite.
 *
 * Money is integer nano-USD (`bigint`); time is unix ms from the injected clock.
 *
 * Invariants every adapter keeps, each in one atomic step:
 * - a source never goes below zero: `available >= 0` for credits and USD, `spent + reserved <= allowance` for DIEM
 *   (unless the allowance itself was lowered);
 * - a key never spends past any of its limits: `spent + reserved <= limit` in the current period;
 * - a project's or organization's budget is never passed: in its period, the scope's `spent + reserved` over the
 *   spend classes it covers stays `<= amount` (unless the budget was lowered below it), checked in the same atomic
 *   reservation as the key's limits and the source; every reservation of a project key is counted for its project
 *   and its organization, so the projects' counters always sum to the organization's;
 * - a reservation is settled at most once, and charges at most what it reserved (the excess is operator loss);
 * - at most one reservation per (account, idempotency key) is live or settled, so a retry is charged once;
 * - in every journal transaction, debits equal credits; usage amounts sum to the charges in the journal.
 */
import type { AccountsLedger } from './accounts/accountsLedger.ts';
import type { AlertsLedger } from './alerts/alertsLedger.ts';
import type { FundingLedger } from './funding/fundingLedger.ts';
import type { MeasurementsLedger } from './measurements/measurementsLedger.ts';
import type { MeteringLedger } from './metering/meteringLedger.ts';
import type { ReportingLedger } from './reporting/reportingLedger.ts';
import type { TeamsLedger } from './teams/teamsLedger.ts';

export * from './accounts/accountsLedger.ts';
export * from './alerts/alertsLedger.ts';
export * from './funding/fundingLedger.ts';
export * from './measurements/measurementsLedger.ts';
export * from './metering/meteringLedger.ts';
export * from './reporting/reportingLedger.ts';
export * from './teams/teamsLedger.ts';
export * from './vocabulary.ts';

/** The whole ledger: one object with every capability, as each adapter opens it. */
export interface Ledger
  extends AccountsLedger,
    FundingLedger,
    MeteringLedger,
    ReportingLedger,
    TeamsLedger,
    AlertsLedger,
    MeasurementsLedger {
  readonly adapter: 'sqlite' | 'postgres';
  /**
   * This open ledger's id, unique per process start (a random id unless given at open). Every reservation records
   * the instance that made it (`Reservation.owner`).
   */
  readonly instanceId: string;

  close(): Promise<void>;
}
