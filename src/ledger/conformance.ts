/**
 * The behaviour every Ledger adapter must show, one suite per capability. `describeLedgerConformance` is run once per
 * adapter (conformance.test.ts); a new adapter is done when these suites pass against it.
 */
import { describeAccountsConformance } from './accounts/conformance.ts';
import { describeAlertsConformance } from './alerts/conformance.ts';
import { describeFundingConformance } from './funding/conformance.ts';
import { describeMeasurementsConformance } from './measurements/conformance.ts';
import { describeMeteringConformance } from './metering/conformance.ts';
import { describeReportingConformance } from './reporting/conformance.ts';
import { describeTeamsConformance } from './teams/conformance.ts';
import type { LedgerHarness } from './testing/harness.ts';

export { expectBalancedJournal, expectError, line } from './conformanceHelpers.ts';

export function describeLedgerConformance(harness: LedgerHarness): void {
  describeAccountsConformance(harness);
  describeFundingConformance(harness);
  describeMeteringConformance(harness);
  describeReportingConformance(harness);
  describeTeamsConformance(harness);
  describeAlertsConformance(harness);
  describeMeasurementsConformance(harness);
}
