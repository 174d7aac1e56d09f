import { describe, expect, it } from 'vitest';
import { PerdiemError } from '../../core/errors.ts';
import { AuditReplayError, budgetRecord, replayBudgets } from './auditReplay.ts';
import {
  checkReallocate,
  checkRemoveMember,
  checkThresholds,
  decideSetMember,
  reallocated,
  requireManager,
  scopeOf,
  unusedOf,
} from './teamRules.ts';
import type { AuditEntry, Budget, OrgRole } from './teamsLedger.ts';

/** The error code a rule throws, or 'ok'. */
function outcome(rule: () => unknown): string {
  try {
    rule();
    return 'ok';
  } catch (error) {
    if (!(error instanceof PerdiemError)) throw error;
    return `${error.status} ${error.code}`;
  }
}

const roles: (OrgRole | null)[] = ['OWNER', 'ADMIN', 'MEMBER', null];

describe('team permissions', () => {
  it('lets OWNERs and ADMINs manage, MEMBERs get 403, non-members 404', () => {
    expect(roles.map((role) => outcome(() => requireManager(role, 'x')))).toEqual([
      'ok',
      'ok',
      '403 forbidden',
      '404 organization_not_found',
    ]);
  });

  it('keeps the OWNER role to OWNERs and one OWNER in every organization', () => {
    // [actor, current role of the target, next role, owners] → outcome
    const cases: [OrgRole | null, OrgRole | null, OrgRole, number, string][] = [
      ['OWNER', null, 'OWNER', 1, 'ok'],
      ['OWNER', 'OWNER', 'MEMBER', 1, '409 last_owner'],
      ['OWNER', 'OWNER', 'MEMBER', 2, 'ok'],
      ['ADMIN', null, 'ADMIN', 1, 'ok'],
      ['ADMIN', 'MEMBER', 'OWNER', 1, '403 owner_required'],
      ['ADMIN', 'OWNER', 'MEMBER', 2, '403 owner_required'],
      ['MEMBER', null, 'MEMBER', 1, '403 forbidden'],
      [null, null, 'MEMBER', 1, '404 organization_not_found'],
    ];
    for (const [actor, current, next, owners, expected] of cases) {
      expect(
        outcome(() => decideSetMember(actor, current, next, owners)),
        `${actor} ${current}→${next}`,
      ).toBe(expected);
    }
    expect(decideSetMember('OWNER', 'MEMBER', 'MEMBER', 1)).toBeNull();
    expect(decideSetMember('OWNER', 'MEMBER', 'ADMIN', 1)).toBe('member.role');
    expect(outcome(() => checkRemoveMember('ADMIN', 'OWNER', 2))).toBe('403 owner_required');
    expect(outcome(() => checkRemoveMember('OWNER', 'OWNER', 1))).toBe('409 last_owner');
    expect(outcome(() => checkRemoveMember('OWNER', null, 1))).toBe('404 member_not_found');
    expect(outcome(() => checkRemoveMember('ADMIN', 'ADMIN', 1))).toBe('ok');
  });

  it('lets a project admin move budget only out of its project', () => {
    expect(outcome(() => checkReallocate('MEMBER', true))).toBe('ok');
    expect(outcome(() => checkReallocate('MEMBER', false))).toBe('403 forbidden');
    expect(outcome(() => checkReallocate('ADMIN', false))).toBe('ok');
    expect(outcome(() => checkReallocate(null, true))).toBe('404 organization_not_found');
  });
});

describe('budget rules', () => {
  const budget: Budget = {
    scopeId: 'prj_a',
    scope: 'PROJECT',
    orgId: 'org_x',
    currency: 'TOTAL',
    period: 'EPOCH',
    amountNano: 100n,
    alertThresholds: [50, 80, 100],
    updatedAtMs: 0,
  };
  const spend = { DIEM: { spentNano: 10n, reservedNano: 5n }, USD: { spentNano: 20n, reservedNano: 0n } };

  it('bounds a reallocation by amount - spent - reserved of the classes the budget covers', () => {
    expect(unusedOf(budget, spend)).toBe(65n);
    expect(unusedOf({ ...budget, currency: 'DIEM' }, spend)).toBe(85n);
    expect(unusedOf({ ...budget, currency: 'USD', amountNano: 10n }, spend)).toBe(0n);
    const to = { ...budget, scopeId: 'prj_b' };
    expect(reallocated(budget, to, 65n, 65n, 7)).toMatchObject({ from: { amountNano: 35n }, to: { amountNano: 165n } });
    expect(outcome(() => reallocated(budget, to, 66n, 65n, 7))).toBe('409 budget_in_use');
  });

  it('validates scopes and thresholds', () => {
    expect(scopeOf('prj_1')).toBe('PROJECT');
    expect(scopeOf('org_1')).toBe('ORGANIZATION');
    expect(outcome(() => scopeOf('acct_1'))).toBe('400 invalid_request');
    expect(checkThresholds([1, 1000])).toEqual([1, 1000]);
    for (const bad of [[0], [1001], [2, 1], [5, 5], [1.5], 'x', Array.from({ length: 11 }, (_, i) => i + 1)]) {
      expect(
        outcome(() => checkThresholds(bad)),
        JSON.stringify(bad),
      ).toBe('400 invalid_request');
    }
  });
});

describe('audit replay', () => {
  const b = (scopeId: string, amountNano: bigint): Budget => ({
    scopeId,
    scope: 'PROJECT',
    orgId: 'org_x',
    currency: 'USD',
    period: 'EPOCH',
    amountNano,
    alertThresholds: [50],
    updatedAtMs: 0,
  });
  let id = 0;
  const entry = (action: AuditEntry['action'], before: unknown, after: unknown): AuditEntry => ({
    id: ++id,
    orgId: 'org_x',
    actorAccountId: 'a',
    action,
    target: 't',
    before,
    after,
    atMs: 0,
  });
  const log = [
    entry('org.create', null, { id: 'org_x' }),
    entry('budget.set', null, budgetRecord(b('prj_a', 10n))),
    entry('budget.set', null, budgetRecord(b('prj_b', 5n))),
    entry(
      'budget.reallocate',
      { from: budgetRecord(b('prj_a', 10n)), to: budgetRecord(b('prj_b', 5n)) },
      { from: budgetRecord(b('prj_a', 4n)), to: budgetRecord(b('prj_b', 11n)) },
    ),
    entry('budget.remove', budgetRecord(b('prj_b', 11n)), null),
  ];

  it('rebuilds the budgets from set, reallocate and remove entries', () => {
    expect(replayBudgets(log)).toEqual(new Map([['prj_a:USD:EPOCH', { amountNano: 4n, alertThresholds: [50] }]]));
  });

  it('refuses a log with an entry missing or altered', () => {
    expect(() => replayBudgets(log.filter((_, i) => i !== 2))).toThrow(AuditReplayError);
    const altered = structuredClone(log);
    (altered[3]!.before as { from: { amountNano: string } }).from.amountNano = '9';
    expect(() => replayBudgets(altered)).toThrow(AuditReplayError);
  });
});
