/**
 * A hard cap at every level of the budget tree: 40 concurrent reservations whose total is twice the cap (a key
 * limit, a project budget, an organization budget) let through exactly what the cap covers, never more. SQLite:
 * two ledger instances (connections) on one file. PostgreSQL: two replicas, each with its own pool, on one schema.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { PerdiemError } from '../../core/errors.ts';
import { type LedgerHarness, postgresHarness, sqliteHarness } from '../testing/harness.ts';
import type { Ledger } from '../types.ts';
import {
  insertOrg,
  insertProject,
  insertProjectKey,
  openTreeLedgers,
  putBudget,
  spendOf,
  type TreeLedgers,
} from './budgetTreeTesting.ts';

const racers = 40;
const amountNano = 7_654_321n;
const capNano = amountNano * BigInt(racers / 2);
const nowMs = Date.UTC(2025, 5, 1, 12);
const levels = ['key', 'project', 'organization'] as const;
const codes = {
  key: 'key_limit_exceeded',
  project: 'project_budget_exceeded',
  organization: 'organization_budget_exceeded',
} as const;

/** An organization with two projects of three keys each; the cap sits at `level` (on the first key or project). */
async function capped(opened: TreeLedgers, level: (typeof levels)[number]) {
  const [ledger] = opened.ledgers as [Ledger];
  const { db } = opened;
  const account = await ledger.createAccount();
  await ledger.addFunds({ accountId: account.id, source: 'CREDITS', amountNano: capNano * 10n, reference: 'cap' });
  await ledger.setDiemAllowance(account.id, epochAt(nowMs), capNano * 10n);
  const orgId = await insertOrg(db, account.id);
  const projects = [await insertProject(db, orgId), await insertProject(db, orgId)];
  const limits = [{ currency: 'TOTAL' as const, period: 'EPOCH' as const, amountNano: capNano }];
  const keys: string[] = [];
  for (const projectId of projects) {
    for (let k = 0; k < 3; k++) {
      const keyLimits = level === 'key' && keys.length === 0 ? limits : [];
      keys.push(await insertProjectKey(ledger, db, account.id, projectId, keyLimits));
    }
  }
  const scope = level === 'organization' ? 'ORGANIZATION' : 'PROJECT';
  const scopeId = level === 'organization' ? orgId : projects[0]!;
  // Budgets elsewhere in the tree, far above the cap, so that every level is read on every reserve.
  await putBudget(db, {
    scopeId: orgId,
    scope: 'ORGANIZATION',
    orgId,
    currency: 'USD',
    period: 'MONTH',
    amountNano: capNano * 100n,
  });
  await putBudget(db, {
    scopeId: projects[1]!,
    scope: 'PROJECT',
    orgId,
    currency: 'DIEM',
    period: 'EPOCH',
    amountNano: capNano * 100n,
  });
  if (level !== 'key')
    await putBudget(db, { scopeId, scope, orgId, currency: 'TOTAL', period: 'EPOCH', amountNano: capNano });
  // Who races: the capped key alone, the capped project's keys, or every key of the organization.
  const racing = level === 'key' ? keys.slice(0, 1) : level === 'project' ? keys.slice(0, 3) : keys;
  return { accountId: account.id, racing, scopeId: level === 'key' ? null : scopeId };
}

function describeHardCap(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`budget hard cap: ${harness.name}, two instances`, () => {
    let opened: TreeLedgers | null = null;
    afterEach(async () => {
      await opened?.close();
      opened = null;
    });

    for (const level of levels) {
      it(`lets ${racers} racing reservations worth twice ${level === 'organization' ? 'an' : 'a'} ${level} cap through exactly up to the cap`, async () => {
        opened = await openTreeLedgers(harness, () => nowMs, 2);
        const { accountId, racing, scopeId } = await capped(opened, level);
        const outcomes = await Promise.allSettled(
          Array.from({ length: racers }, (_, i) =>
            opened!.ledgers[i % 2]!.reserve({
              accountId,
              keyId: racing[i % racing.length]!,
              idempotencyKey: `race-${i}`,
              model: 'm',
              amountNano,
            }),
          ),
        );
        const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.reservation] : []));
        const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        expect(reasons.filter((r) => !(r instanceof PerdiemError))).toEqual([]);
        expect(new Set(reasons.map((r) => (r as PerdiemError).code))).toEqual(new Set([codes[level]]));
        expect(new Set(reasons.map((r) => (r as PerdiemError).headers['x-perdiem-refused-by']))).toEqual(
          new Set([level]),
        );
        expect(won.reduce((sum, r) => sum + r.amountNano, 0n)).toBe(capNano);
        expect(won).toHaveLength(racers / 2);
        if (scopeId !== null) {
          const spend = Object.values(await spendOf(opened.db, scopeId));
          // Both periods, summed over both classes: exactly the cap held.
          expect(spend.reduce((sum, [, reserved]) => sum + reserved, 0n)).toBe(capNano * 2n);
        }
      });
    }
  });
}

describeHardCap(sqliteHarness);
describeHardCap(await postgresHarness());
