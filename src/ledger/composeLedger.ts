/**
 * One `Ledger` object from its capability parts, as each adapter opens it. The method lists are checked against the
 * interfaces, so a method added to a capability does not compile until it is listed here.
 */
import type { AccountsLedger } from './accounts/accountsLedger.ts';
import type { AlertsLedger } from './alerts/alertsLedger.ts';
import type { FundingLedger } from './funding/fundingLedger.ts';
import type { MeasurementsLedger } from './measurements/measurementsLedger.ts';
import type { MeteringLedger } from './metering/meteringLedger.ts';
import type { ReportingLedger } from './reporting/reportingLedger.ts';
import type { TeamsLedger } from './teams/teamsLedger.ts';
import type { Ledger } from './types.ts';

const accountsMethods = {
  createAccount: true,
  getAccount: true,
  linkWallet: true,
  accountByWallet: true,
  listWallets: true,
  walletsOfAccount: true,
  createKey: true,
  authenticate: true,
  getKey: true,
  listKeys: true,
  updateKey: true,
  revokeKey: true,
} as const satisfies Record<keyof AccountsLedger, true>;

const fundingMethods = {
  setDiemAllowance: true,
  setWalletAllowance: true,
  allowanceSnapshotBlock: true,
  claimAllowanceSnapshotBlock: true,
  addFunds: true,
  balance: true,
  fundings: true,
} as const satisfies Record<keyof FundingLedger, true>;

const meteringMethods = {
  spendable: true,
  reserve: true,
  settle: true,
  void: true,
  expireReservations: true,
  renewHolds: true,
  voidHoldsOfOtherInstances: true,
  keyLimitUsage: true,
  getReservation: true,
} as const satisfies Record<keyof MeteringLedger, true>;

const reportingMethods = {
  chargeOf: true,
  usageHistory: true,
  usageAnalytics: true,
  journal: true,
} as const satisfies Record<keyof ReportingLedger, true>;

const teamsMethods = {
  createOrg: true,
  getOrg: true,
  listOrgs: true,
  orgOfAccount: true,
  setMember: true,
  removeMember: true,
  listMembers: true,
  createProject: true,
  listProjects: true,
  setProjectAdmin: true,
  createProjectKey: true,
  setBudget: true,
  reallocate: true,
  orgTree: true,
  auditLog: true,
} as const satisfies Record<keyof TeamsLedger, true>;

const alertsMethods = {
  addWebhook: true,
  removeWebhook: true,
  listWebhooks: true,
  listAlerts: true,
  raiseAlerts: true,
  dueDeliveries: true,
  recordDelivery: true,
} as const satisfies Record<keyof AlertsLedger, true>;

const measurementsMethods = {
  saveMeasurements: true,
  listMeasurements: true,
} as const satisfies Record<keyof MeasurementsLedger, true>;

export interface LedgerParts {
  adapter: Ledger['adapter'];
  instanceId: string;
  accounts: AccountsLedger;
  funding: FundingLedger;
  metering: MeteringLedger;
  reporting: ReportingLedger;
  teams: TeamsLedger;
  alerts: AlertsLedger;
  measurements: MeasurementsLedger;
  /** Closes the storage the parts share, once. */
  close(): Promise<void>;
}

export function composeLedger(parts: LedgerParts): Ledger {
  const ledger: Record<string, unknown> = {
    adapter: parts.adapter,
    instanceId: parts.instanceId,
    close: () => parts.close(),
  };
  bind(ledger, parts.accounts, accountsMethods);
  bind(ledger, parts.funding, fundingMethods);
  bind(ledger, parts.metering, meteringMethods);
  bind(ledger, parts.reporting, reportingMethods);
  bind(ledger, parts.teams, teamsMethods);
  bind(ledger, parts.alerts, alertsMethods);
  bind(ledger, parts.measurements, measurementsMethods);
  return Object.freeze(ledger) as unknown as Ledger;
}

function bind<T extends object>(target: Record<string, unknown>, part: T, methods: Record<keyof T, true>): void {
  for (const name of Object.keys(methods) as (keyof T & string)[]) {
    const method = part[name];
    if (typeof method !== 'function') throw new TypeError(`ledger part has no method ${name}`);
    target[name] = method.bind(part);
  }
}
