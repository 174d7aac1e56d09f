/**
 * Budgets against what their scopes spent and hold: the reallocation bound (amount - spent - reserved in the current
 * period, TOTAL reading both spend classes), a budget lowered below its use, and the usage the tree shows. The spend
 * rows (budget_spend) are written here through a second connection to the same database, as the metering hot path
 * writes them, so these tests hold whatever the state of the hot path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { day, expectError, start, usd } from '../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import { type SpendLedger, spendLedgerAdapters } from './spendLedgers.ts';

for (const adapter of spendLedgerAdapters) {
  describe.skipIf(adapter.skip !== null)(`teams budgets against spend: ${adapter.name}`, () => {
    let clock: FakeClock;
    let opened: SpendLedger;
    afterEach(async () => {
      await opened.close();
    });

    async function setup() {
      clock = fakeClock(start);
      opened = await adapter.open(clock);
      const { ledger } = opened;
      const owner = (await ledger.createAccount({ name: 'owner' })).id;
      const org = await ledger.createOrg(owner, { name: 'Acme' });
      const a = await ledger.createProject(owner, org.id, { name: 'a' });
      clock.advance(1);
      const b = await ledger.createProject(owner, org.id, { name: 'b' });
      return { ledger, owner, org, a, b };
    }

    const epochKey = () => `EPOCH:${epochAt(clock.now())}`;
    const monthKey = () => `MONTH:${monthAt(clock.now())}`;

    it('lets a reallocation move at most what the source leaves unused this period', async () => {
      const { ledger, owner, org, a, b } = await setup();
      for (const project of [a, b]) {
        await ledger.setBudget(owner, { scopeId: project.id, currency: 'USD', period: 'EPOCH', amountNano: usd(10) });
      }
      await opened.writeSpend(a.id, 'USD', epochKey(), usd(3), usd(2));
      // Spend of another class, and of yesterday, does not count against a USD budget today.
      await opened.writeSpend(a.id, 'DIEM', epochKey(), usd(4), 0n);
      await opened.writeSpend(a.id, 'USD', `EPOCH:${epochAt(clock.now()) - 1}`, usd(9), 0n);
      const move = (amountNano: bigint) =>
        ledger.reallocate(owner, {
          fromProjectId: a.id,
          toProjectId: b.id,
          currency: 'USD',
          period: 'EPOCH',
          amountNano,
        });
      await expectError(move(usd(5) + 1n), 409, 'budget_in_use', 'amountNano');
      const moved = await move(usd(5));
      expect([moved.from.amountNano, moved.to.amountNano]).toEqual([usd(5), usd(15)]);
      await expectError(move(1n), 409, 'budget_in_use');
      const tree = await ledger.orgTree(owner, org.id);
      expect(tree.projects[0]!.budgets[0]).toMatchObject({
        periodKey: epochKey(),
        amountNano: usd(5),
        spentNano: usd(3),
        reservedNano: usd(2),
        remainingNano: 0n,
      });
      expect(tree.projects[0]!.spend).toMatchObject({ epochSpentNano: { DIEM: usd(4), USD: usd(3) } });
      // A new epoch starts with nothing used.
      clock.advance(day);
      expect((await move(usd(5))).from.amountNano).toBe(0n);
    });

    it('bounds a TOTAL budget by both spend classes, and a MONTH budget by the month', async () => {
      const { ledger, owner, a, b } = await setup();
      for (const project of [a, b]) {
        await ledger.setBudget(owner, { scopeId: project.id, currency: 'TOTAL', period: 'MONTH', amountNano: usd(10) });
      }
      await opened.writeSpend(a.id, 'DIEM', monthKey(), usd(2), usd(1));
      await opened.writeSpend(a.id, 'USD', monthKey(), usd(3), 0n);
      await opened.writeSpend(a.id, 'USD', epochKey(), usd(9), 0n);
      const move = (amountNano: bigint) =>
        ledger.reallocate(owner, {
          fromProjectId: a.id,
          toProjectId: b.id,
          currency: 'TOTAL',
          period: 'MONTH',
          amountNano,
        });
      await expectError(move(usd(4) + 1n), 409, 'budget_in_use');
      expect((await move(usd(4))).from.amountNano).toBe(usd(6));
    });

    it('lets a budget be lowered below what its scope already used: it stops new spend, moves nothing', async () => {
      const { ledger, owner, org, a, b } = await setup();
      await ledger.setBudget(owner, { scopeId: a.id, currency: 'DIEM', period: 'EPOCH', amountNano: usd(10) });
      await ledger.setBudget(owner, { scopeId: b.id, currency: 'DIEM', period: 'EPOCH', amountNano: 0n });
      await ledger.setBudget(owner, { scopeId: org.id, currency: 'DIEM', period: 'EPOCH', amountNano: usd(1) });
      await opened.writeSpend(a.id, 'DIEM', epochKey(), usd(6), 0n);
      await opened.writeSpend(org.id, 'DIEM', epochKey(), usd(6), 0n);
      const lowered = await ledger.setBudget(owner, {
        scopeId: a.id,
        currency: 'DIEM',
        period: 'EPOCH',
        amountNano: usd(2),
      });
      expect(lowered?.amountNano).toBe(usd(2));
      await expectError(
        ledger.reallocate(owner, {
          fromProjectId: a.id,
          toProjectId: b.id,
          currency: 'DIEM',
          period: 'EPOCH',
          amountNano: 1n,
        }),
        409,
        'budget_in_use',
      );
      const tree = await ledger.orgTree(owner, org.id);
      expect(tree.budgets[0]).toMatchObject({ spentNano: usd(6), remainingNano: 0n });
      expect(tree.spend.epochSpentNano).toEqual({ DIEM: usd(6), USD: 0n });
      expect(tree.projects[0]!.budgets[0]).toMatchObject({ amountNano: usd(2), spentNano: usd(6), remainingNano: 0n });
    });
  });
}
