/**
 * The budget tree in the metering hot path, as every adapter must show it: a project key's request fits its key
 * limits, its project's and its organization's budgets and a source, in one reservation; every reservation of a
 * project key is counted for both scopes; a refusal names the level; the headroom after a hold names the tightest.
 * Run from the metering suite (conformance.ts), once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PerdiemError } from '../../../core/errors.ts';
import { day, expectError, fundedAccountOn, line, reserveOn, start, usd } from '../../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../../testing/fakeClock.ts';
import type { LedgerHarness } from '../../testing/harness.ts';
import type { KeyLimit, Ledger, LimitCurrency, ReserveInput } from '../../types.ts';
import {
  type BudgetRow,
  budgetPeriodKeysAt,
  insertOrg,
  insertProject,
  insertProjectKey,
  openTreeLedgers,
  putBudget,
  spendOf,
  type TreeDb,
  type TreeLedgers,
} from '../budgetTreeTesting.ts';

export function describeBudgetConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: budget tree`, () => {
    let clock: FakeClock;
    let opened: TreeLedgers;
    let ledger: Ledger;
    let db: TreeDb;

    beforeEach(async () => {
      clock = fakeClock(start);
      opened = await openTreeLedgers(harness, clock.now);
      [ledger] = opened.ledgers as [Ledger];
      db = opened.db;
    });
    afterEach(async () => {
      await opened.close();
    });

    /** An organization funded by a new account, one project, one key in it. */
    async function tree(funds: { diem?: bigint; credits?: bigint; usd?: bigint }, limits: KeyLimit[] = []) {
      const account = await fundedAccountOn(ledger, clock, funds);
      const orgId = await insertOrg(db, account.id);
      const projectId = await insertProject(db, orgId);
      const keyId = await insertProjectKey(ledger, db, account.id, projectId, limits);
      const budget = (
        scope: 'project' | 'organization',
        currency: LimitCurrency,
        period: 'EPOCH' | 'MONTH',
        amountNano: bigint | null,
      ) => {
        const row: BudgetRow = {
          scopeId: scope === 'project' ? projectId : orgId,
          scope: scope === 'project' ? 'PROJECT' : 'ORGANIZATION',
          orgId,
          currency,
          period,
          amountNano,
        };
        return putBudget(db, row);
      };
      const reserve = (amountNano: bigint, extra: Partial<ReserveInput> = {}) =>
        reserveOn(ledger, account.id, amountNano, { keyId, ...extra });
      return { accountId: account.id, orgId, projectId, keyId, budget, reserve };
    }

    async function refusal(promise: Promise<unknown>): Promise<PerdiemError> {
      const error = await promise.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PerdiemError);
      return error as PerdiemError;
    }

    it('counts every reservation of a project key for its project and organization, per period', async () => {
      const t = await tree({ credits: usd(100) });
      const { EPOCH: e, MONTH: m } = budgetPeriodKeysAt(clock.now());
      const a = await t.reserve(usd(3));
      const b = await t.reserve(usd(2));
      for (const scope of [t.projectId, t.orgId]) {
        expect(await spendOf(db, scope)).toEqual({ [`USD ${e}`]: [0n, usd(5)], [`USD ${m}`]: [0n, usd(5)] });
      }
      const [row] = await db.run('SELECT project_id, org_id FROM reservations WHERE id = $1', [a.reservation.id]);
      expect(row).toEqual({ project_id: t.projectId, org_id: t.orgId });
      await ledger.settle({ reservationId: a.reservation.id, lines: [line(usd(1))], latencyMs: 1 });
      await ledger.void(b.reservation.id);
      for (const scope of [t.projectId, t.orgId]) {
        expect(await spendOf(db, scope)).toEqual({ [`USD ${e}`]: [usd(1), 0n], [`USD ${m}`]: [usd(1), 0n] });
      }
    });

    it('releases an expired hold from the project and organization counters, in its class', async () => {
      const t = await tree({ diem: usd(10) });
      const { EPOCH: e, MONTH: m } = budgetPeriodKeysAt(clock.now());
      await t.reserve(usd(4), { ttlMs: 1000 });
      expect(await spendOf(db, t.orgId)).toEqual({ [`DIEM ${e}`]: [0n, usd(4)], [`DIEM ${m}`]: [0n, usd(4)] });
      clock.advance(2000);
      expect(await ledger.expireReservations()).toBe(1);
      expect(await spendOf(db, t.projectId)).toEqual({ [`DIEM ${e}`]: [0n, 0n], [`DIEM ${m}`]: [0n, 0n] });
    });

    it('leaves keys without a project as they were: nothing counted, headroom from limits and source', async () => {
      const account = await fundedAccountOn(ledger, clock, { credits: usd(10) });
      const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'plain' });
      const plain = await reserveOn(ledger, account.id, usd(1), { keyId: key.id });
      expect(plain.headroom).toEqual({ level: 'source', remainingNano: usd(9) });
      const limits: KeyLimit[] = [{ currency: 'USD', period: 'EPOCH', amountNano: usd(5) }];
      await ledger.updateKey(key.id, { limits });
      expect((await reserveOn(ledger, account.id, usd(1), { keyId: key.id })).headroom).toEqual({
        level: 'key',
        remainingNano: usd(3),
      });
      expect(await db.run('SELECT * FROM budget_spend')).toEqual([]);
      const [row] = await db.run('SELECT project_id, org_id FROM reservations WHERE id = $1', [plain.reservation.id]);
      expect(row).toEqual({ project_id: null, org_id: null });
    });

    it('refuses at each level with its code and the x-perdiem-refused-by header', async () => {
      const keyed = await tree({ credits: usd(100) }, [{ currency: 'USD', period: 'EPOCH', amountNano: usd(1) }]);
      const key = await refusal(keyed.reserve(usd(2)));
      expect([key.status, key.code, key.headers]).toEqual([
        402,
        'key_limit_exceeded',
        { 'x-perdiem-refused-by': 'key' },
      ]);
      expect(key.message).toContain('USD limit for the epoch ($1, covering credits and the USD balance) has $1 left');

      const project = await tree({ credits: usd(100) });
      await project.budget('project', 'USD', 'EPOCH', usd(1));
      const p = await refusal(project.reserve(usd(2)));
      expect([p.status, p.code, p.headers]).toEqual([
        402,
        'project_budget_exceeded',
        { 'x-perdiem-refused-by': 'project' },
      ]);
      expect(p.message).toBe(
        "this key's project USD budget for the epoch ($1, covering credits and the USD balance) has $1 left; " +
          'the request needs up to $2',
      );

      const org = await tree({ credits: usd(100) });
      await org.budget('organization', 'TOTAL', 'MONTH', usd(1.5));
      const o = await refusal(org.reserve(usd(2)));
      expect([o.code, o.headers]).toEqual(['organization_budget_exceeded', { 'x-perdiem-refused-by': 'organization' }]);
      expect(o.message).toContain(
        'organization TOTAL budget for the month ($1.5, covering every source) has $1.5 left',
      );

      const poor = await tree({ credits: usd(1) });
      await poor.budget('project', 'USD', 'EPOCH', usd(0.5));
      const s = await refusal(poor.reserve(usd(2)));
      expect([s.code, s.headers]).toEqual(['insufficient_balance', { 'x-perdiem-refused-by': 'source' }]);
    });

    it('names the tightest blocking level, ties to the lower level', async () => {
      const t = await tree({ credits: usd(100) }, [{ currency: 'USD', period: 'EPOCH', amountNano: usd(3) }]);
      await t.budget('project', 'USD', 'EPOCH', usd(2));
      await t.budget('organization', 'TOTAL', 'MONTH', usd(1));
      await expectError(t.reserve(usd(4)), 402, 'organization_budget_exceeded');
      await t.budget('project', 'TOTAL', 'MONTH', usd(1));
      await expectError(t.reserve(usd(4)), 402, 'project_budget_exceeded');
      await ledger.updateKey(t.keyId, { limits: [{ currency: 'TOTAL', period: 'LIFETIME', amountNano: usd(1) }] });
      await expectError(t.reserve(usd(4)), 402, 'key_limit_exceeded');
      // A flexible request takes what the tightest level leaves.
      const flexible = await t.reserve(usd(4), { minAmountNano: usd(0.5) });
      expect(flexible.reservation.amountNano).toBe(usd(1));
      expect(flexible.headroom).toEqual({ level: 'key', remainingNano: 0n });
    });

    it('reports the tightest remaining level after the hold, over the budgets covering the source', async () => {
      const t = await tree({ diem: usd(50), credits: usd(100) }, [
        { currency: 'TOTAL', period: 'MONTH', amountNano: usd(10) },
      ]);
      await t.budget('project', 'TOTAL', 'EPOCH', usd(8));
      await t.budget('organization', 'DIEM', 'EPOCH', usd(6));
      const first = await t.reserve(usd(1));
      expect(first.reservation.source).toBe('DIEM');
      expect(first.headroom).toEqual({ level: 'organization', remainingNano: usd(5) });
      // The DIEM budget does not cover credits: the project's TOTAL budget is then the tightest.
      await t.budget('organization', 'DIEM', 'EPOCH', usd(1));
      const second = await t.reserve(usd(2));
      expect(second.reservation.source).toBe('CREDITS');
      expect(second.headroom).toEqual({ level: 'project', remainingNano: usd(5) });
      await t.budget('organization', 'USD', 'MONTH', usd(100));
      await t.budget('project', 'TOTAL', 'EPOCH', null);
      const third = await t.reserve(usd(1));
      expect(third.headroom).toEqual({ level: 'key', remainingNano: usd(6) });
      const spendable = await ledger.spendable({ accountId: t.accountId, keyId: t.keyId });
      expect(spendable.sources).toEqual([
        { source: 'DIEM', headroomNano: 0n },
        { source: 'CREDITS', headroomNano: usd(6) },
        { source: 'USD', headroomNano: 0n },
      ]);
    });

    it('stops new spend when a budget is lowered mid-period, and counts spend from before a budget was set', async () => {
      const t = await tree({ credits: usd(100) });
      const before = await t.reserve(usd(3));
      await ledger.settle({ reservationId: before.reservation.id, lines: [line(usd(3))], latencyMs: 1 });
      await t.budget('project', 'USD', 'MONTH', usd(4));
      await expectError(t.reserve(usd(2)), 402, 'project_budget_exceeded');
      expect((await t.reserve(usd(1))).headroom).toEqual({ level: 'project', remainingNano: 0n });
      await t.budget('project', 'USD', 'MONTH', usd(2));
      await expectError(t.reserve(1n), 402, 'project_budget_exceeded');
      expect((await ledger.spendable({ accountId: t.accountId, keyId: t.keyId })).maxNano).toBe(0n);
      await t.budget('project', 'USD', 'MONTH', usd(6));
      await t.reserve(usd(2));
      await expectError(t.reserve(usd(0.5)), 402, 'project_budget_exceeded');
    });

    it('starts an epoch budget afresh next epoch, while a month budget keeps counting', async () => {
      const t = await tree({ credits: usd(100) });
      await t.budget('organization', 'USD', 'EPOCH', usd(2));
      await t.budget('project', 'TOTAL', 'MONTH', usd(3));
      await t.reserve(usd(2));
      await expectError(t.reserve(usd(1)), 402, 'organization_budget_exceeded');
      clock.advance(day);
      const next = await t.reserve(usd(1));
      expect(next.headroom).toEqual({ level: 'project', remainingNano: 0n });
    });
  });
}
