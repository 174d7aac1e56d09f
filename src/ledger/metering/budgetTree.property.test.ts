/**
 * Property test of the budget tree on both adapters: random trees (an organization with 1–4 projects of 1–3 keys,
 * random key limits, project and organization budgets), random bursts of concurrent reserves from many keys over
 * two ledger instances followed by random settles and voids, and random budget changes and reallocations between
 * projects. After every step, against the database:
 * - no budget is exceeded: what its scope used in its period (spent + reserved over the classes it covers) stays
 *   within it, or within what was already used when it was lowered below that;
 * - no key limit is exceeded;
 * - the projects' counters sum to the organization's, per class and period;
 * - every counter equals what the reservations imply (held: live amounts; spent: settled charges).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { PerdiemError } from '../../core/errors.ts';
import { line } from '../conformance.ts';
import { fakeClock } from '../testing/fakeClock.ts';
import { type LedgerHarness, postgresHarness, sqliteHarness } from '../testing/harness.ts';
import type { KeyLimit, Ledger, LimitCurrency, Reservation } from '../types.ts';
import { limitCurrencyOf } from '../vocabulary.ts';
import { budgetClassesOf } from './budgetRules.ts';
import {
  budgetPeriodKeysAt,
  insertOrg,
  insertProject,
  insertProjectKey,
  openTreeLedgers,
  putBudget,
  type TreeDb,
  type TreeLedgers,
} from './budgetTreeTesting.ts';

const start = Date.UTC(2025, 2, 10, 6);
const unit = 1_000_000n;
const currencies = ['DIEM', 'USD', 'TOTAL'] as const;
const periods = ['EPOCH', 'MONTH'] as const;

const budgetArb = fc.record({
  currency: fc.constantFrom(...currencies),
  period: fc.constantFrom(...periods),
  amount: fc.bigInt({ min: 0n, max: 40n }),
});
const treeArb = fc.record({
  projects: fc.array(
    fc.record({
      keys: fc.array(fc.option(budgetArb.map((b) => ({ ...b, period: b.period as KeyLimit['period'] }))), {
        minLength: 1,
        maxLength: 3,
      }),
      budgets: fc.array(budgetArb, { maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  orgBudgets: fc.array(budgetArb, { maxLength: 2 }),
  diem: fc.bigInt({ min: 0n, max: 60n }),
  credits: fc.bigInt({ min: 0n, max: 60n }),
});
const stepArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('burst' as const),
      requests: fc.array(
        fc.record({
          key: fc.nat(),
          amount: fc.bigInt({ min: 1n, max: 12n }),
          flexible: fc.boolean(),
          end: fc.oneof(fc.constant('live' as const), fc.constant('void' as const), fc.integer({ min: 0, max: 120 })),
        }),
        { minLength: 1, maxLength: 10 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('set' as const), scope: fc.nat(), budget: budgetArb, remove: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('move' as const),
      from: fc.nat(),
      to: fc.nat(),
      currency: fc.constantFrom(...currencies),
      period: fc.constantFrom(...periods),
      amount: fc.bigInt({ min: 0n, max: 20n }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('finish' as const), pct: fc.integer({ min: 0, max: 100 }) }) },
);

interface Tree {
  accountId: string;
  orgId: string;
  projects: string[];
  keys: string[];
  /** Per budget (scope, currency, period): the most it may show used (its amount, or the use when lowered below). */
  ceilings: Map<string, bigint>;
  live: Reservation[];
}

function describeTreeProperty(harness: LedgerHarness, numRuns: number): void {
  describe.skipIf(harness.skipReason !== null)(`budget tree properties: ${harness.name}`, () => {
    const clock = fakeClock(start);
    let opened: TreeLedgers;
    beforeAll(async () => {
      opened = await openTreeLedgers(harness, clock.now, 2);
    });
    afterAll(async () => {
      await opened?.close();
    });

    it('never exceeds a level; projects sum to the organization; counters match the reservations', async () => {
      await fc.assert(
        fc.asyncProperty(treeArb, fc.array(stepArb, { minLength: 1, maxLength: 8 }), async (shape, steps) => {
          const tree = await build(opened, shape);
          for (const step of steps) {
            await runStep(opened, tree, step);
            await checkInvariants(opened, tree);
          }
        }),
        { numRuns, seed: 15, endOnFailure: true },
      );
    });
  });
}

async function build(opened: TreeLedgers, shape: TreeShape): Promise<Tree> {
  const [ledger] = opened.ledgers as [Ledger];
  const { db } = opened;
  const account = await ledger.createAccount();
  if (shape.credits > 0n)
    await ledger.addFunds({
      accountId: account.id,
      source: 'CREDITS',
      amountNano: shape.credits * unit,
      reference: account.id,
    });
  if (shape.diem > 0n) await ledger.setDiemAllowance(account.id, epochAt(start), shape.diem * unit);
  const orgId = await insertOrg(db, account.id);
  const tree: Tree = { accountId: account.id, orgId, projects: [], keys: [], ceilings: new Map(), live: [] };
  for (const b of shape.orgBudgets) await setBudget(db, tree, orgId, b, b.amount * unit);
  for (const p of shape.projects) {
    const projectId = await insertProject(db, orgId);
    tree.projects.push(projectId);
    for (const b of p.budgets) await setBudget(db, tree, projectId, b, b.amount * unit);
    for (const limit of p.keys) {
      const limits: KeyLimit[] = limit
        ? [{ currency: limit.currency, period: limit.period, amountNano: limit.amount * unit }]
        : [];
      tree.keys.push(await insertProjectKey(ledger, db, account.id, projectId, limits));
    }
  }
  return tree;
}

type TreeShape = typeof treeArb extends fc.Arbitrary<infer T> ? T : never;
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;
type BudgetShape = { currency: LimitCurrency; period: 'EPOCH' | 'MONTH' };

/** Sets a budget (null amount: removes it) and records its ceiling: its amount, or what was used if that is more. */
async function setBudget(
  db: TreeDb,
  tree: Tree,
  scopeId: string,
  b: BudgetShape,
  amountNano: bigint | null,
): Promise<void> {
  const scope = scopeId === tree.orgId ? 'ORGANIZATION' : 'PROJECT';
  await putBudget(db, { scopeId, scope, orgId: tree.orgId, currency: b.currency, period: b.period, amountNano });
  const id = `${scopeId} ${b.currency} ${b.period}`;
  if (amountNano === null) tree.ceilings.delete(id);
  else {
    const used = await usedOf(db, scopeId, b.currency, b.period);
    tree.ceilings.set(id, used > amountNano ? used : amountNano);
  }
}

async function usedOf(db: TreeDb, scopeId: string, currency: LimitCurrency, period: 'EPOCH' | 'MONTH') {
  const key = budgetPeriodKeysAt(start)[period];
  const rows = await db.run(
    'SELECT class, spent_nano, reserved_nano FROM budget_spend WHERE scope_id = $1 AND period_key = $2',
    [scopeId, key],
  );
  let used = 0n;
  for (const r of rows) {
    if (budgetClassesOf(currency).includes(r.class as 'DIEM' | 'USD'))
      used += BigInt(r.spent_nano as bigint) + BigInt(r.reserved_nano as bigint);
  }
  return used;
}

async function runStep(opened: TreeLedgers, tree: Tree, step: Step): Promise<void> {
  const { db, ledgers } = opened;
  const scopes = [tree.orgId, ...tree.projects];
  if (step.t === 'set') {
    const scopeId = scopes[step.scope % scopes.length]!;
    await setBudget(db, tree, scopeId, step.budget, step.remove ? null : step.budget.amount * unit);
  } else if (step.t === 'move') {
    const from = tree.projects[step.from % tree.projects.length]!;
    const to = tree.projects[step.to % tree.projects.length]!;
    const [budget] = await db.run(
      'SELECT amount_nano FROM budgets WHERE scope_id = $1 AND currency = $2 AND period = $3',
      [from, step.currency, step.period],
    );
    if (!budget || from === to) return;
    const left = BigInt(budget.amount_nano as bigint) - (await usedOf(db, from, step.currency, step.period));
    const moved = step.amount * unit < left ? step.amount * unit : left > 0n ? left : 0n;
    const [target] = await db.run(
      'SELECT amount_nano FROM budgets WHERE scope_id = $1 AND currency = $2 AND period = $3',
      [to, step.currency, step.period],
    );
    const shape = { currency: step.currency, period: step.period };
    await setBudget(db, tree, from, shape, BigInt(budget.amount_nano as bigint) - moved);
    await setBudget(db, tree, to, shape, (target ? BigInt(target.amount_nano as bigint) : 0n) + moved);
  } else if (step.t === 'finish') {
    const live = tree.live.splice(0);
    await Promise.all(live.map((r, i) => endReservation(ledgers[i % 2]!, r, i % 3 === 0 ? 'void' : step.pct)));
  } else {
    await burst(ledgers, tree, step.requests);
  }
}

async function burst(ledgers: Ledger[], tree: Tree, requests: Extract<Step, { t: 'burst' }>['requests']) {
  const outcomes = await Promise.allSettled(
    requests.map((r, i) =>
      ledgers[i % 2]!.reserve({
        accountId: tree.accountId,
        keyId: tree.keys[r.key % tree.keys.length]!,
        idempotencyKey: crypto.randomUUID(),
        model: 'm',
        amountNano: r.amount * unit,
        minAmountNano: r.flexible ? unit : undefined,
      }),
    ),
  );
  const ends: Promise<unknown>[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') {
      if (!(o.reason instanceof PerdiemError) || o.reason.status !== 402) throw o.reason;
      return;
    }
    const end = requests[i]!.end;
    if (end === 'live') tree.live.push(o.value.reservation);
    else ends.push(endReservation(ledgers[(i + 1) % 2]!, o.value.reservation, end));
  });
  await Promise.all(ends);
}

function endReservation(ledger: Ledger, r: Reservation, end: 'void' | number): Promise<unknown> {
  if (end === 'void') return ledger.void(r.id);
  return ledger.settle({ reservationId: r.id, lines: [line((r.amountNano * BigInt(end)) / 100n)], latencyMs: 1 });
}

async function checkInvariants(opened: TreeLedgers, tree: Tree): Promise<void> {
  const { db } = opened;
  for (const [id, ceiling] of tree.ceilings) {
    const [scopeId, currency, period] = id.split(' ') as [string, LimitCurrency, 'EPOCH' | 'MONTH'];
    expect(await usedOf(db, scopeId, currency, period), `budget ${id}`).toBeLessThanOrEqual(ceiling);
  }
  for (const keyId of tree.keys) {
    for (const limit of await opened.ledgers[0]!.keyLimitUsage(keyId)) {
      expect(limit.spentNano + limit.reservedNano, `key ${keyId}`).toBeLessThanOrEqual(limit.amountNano);
    }
  }
  const counters = await countersOf(db, [tree.orgId, ...tree.projects]);
  const implied = await impliedCounters(db, tree);
  expect(counters).toEqual(implied);
  const sumOfProjects = new Map<string, string>();
  for (const [k, v] of counters) {
    const [scope, rest] = [k.slice(0, k.indexOf(' ')), k.slice(k.indexOf(' ') + 1)];
    if (scope === tree.orgId) continue;
    const [s, r] = v.split('/').map(BigInt) as [bigint, bigint];
    const [s0, r0] = (sumOfProjects.get(rest) ?? '0/0').split('/').map(BigInt) as [bigint, bigint];
    sumOfProjects.set(rest, `${s0 + s}/${r0 + r}`);
  }
  const ofOrg = new Map(
    [...counters].filter(([k]) => k.startsWith(`${tree.orgId} `)).map(([k, v]) => [k.slice(tree.orgId.length + 1), v]),
  );
  expect(sumOfProjects).toEqual(ofOrg);
}

/** Every counter of the scopes as "scope class periodKey" → "spent/reserved", zero rows left out. */
async function countersOf(db: TreeDb, scopes: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const scope of scopes) {
    for (const r of await db.run('SELECT * FROM budget_spend WHERE scope_id = $1', [scope])) {
      const [spent, reserved] = [BigInt(r.spent_nano as bigint), BigInt(r.reserved_nano as bigint)];
      if (spent !== 0n || reserved !== 0n) out.set(`${scope} ${r.class} ${r.period_key}`, `${spent}/${reserved}`);
    }
  }
  return out;
}

/** What the reservations imply for the same counters. */
async function impliedCounters(db: TreeDb, tree: Tree): Promise<Map<string, string>> {
  const rows = await db.run(
    `SELECT project_id, org_id, source, epoch, month, status, amount_nano, charged_nano FROM reservations
      WHERE org_id = $1 AND status IN ('RESERVED', 'SETTLED')`,
    [tree.orgId],
  );
  const sums = new Map<string, [bigint, bigint]>();
  for (const r of rows) {
    const keys = [`EPOCH:${r.epoch}`, `MONTH:${r.month}`];
    const cls = limitCurrencyOf(r.source as 'DIEM' | 'CREDITS' | 'USD');
    for (const scope of [r.project_id as string, r.org_id as string]) {
      for (const periodKey of keys) {
        const k = `${scope} ${cls} ${periodKey}`;
        const [s, h] = sums.get(k) ?? [0n, 0n];
        sums.set(
          k,
          r.status === 'SETTLED' ? [s + BigInt(r.charged_nano as bigint), h] : [s, h + BigInt(r.amount_nano as bigint)],
        );
      }
    }
  }
  const out = new Map<string, string>();
  for (const [k, [s, h]] of sums) if (s !== 0n || h !== 0n) out.set(k, `${s}/${h}`);
  return out;
}

describeTreeProperty(sqliteHarness, 40);
describeTreeProperty(await postgresHarness(), 20);
