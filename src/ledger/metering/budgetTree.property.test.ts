/**
 * Property test of the budget tree on both adapters: random trees (an organization with 1–4 projects of 1–3 keys,
 * random key limits, project and organization budgets), random bursts of concurrent reserves from many keys over
 * two ledger instances followed by random settles and voids, and random budget changes and reallocations between
 * projects, all through the teams methods (createOrg, createProjectKey, setBudget, reallocate). After every step,
 * against the database:
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
import { maxNano } from '../../core/money.ts';
import { line } from '../conformance.ts';
import { fakeClock } from '../testing/fakeClock.ts';
import { type LedgerHarness, postgresHarness, sqliteHarness } from '../testing/harness.ts';
import type { KeyLimit, Ledger, LimitCurrency, Reservation } from '../types.ts';
import { limitCurrencyOf } from '../vocabulary.ts';
import { budgetClassesOf } from './budgetRules.ts';
import { budgetPeriodKeysAt, openTreeLedgers, type TreeDb, type TreeLedgers } from './budgetTreeTesting.ts';

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
      amount: fc.bigInt({ min: 1n, max: 20n }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('finish' as const), pct: fc.integer({ min: 0, max: 100 }) }) },
);

/** What the runs did, so that the property cannot hold vacuously. */
const stats = { reserved: 0, moved: 0, refused: new Set<string>() };

interface Tree {
  /** The ledger the organization's owner changes budgets through (the teams methods). */
  ledger: Ledger;
  owner: string;
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
      Object.assign(stats, { reserved: 0, moved: 0, refused: new Set<string>() });
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
      expect(stats.reserved).toBeGreaterThan(numRuns);
      expect(stats.moved).toBeGreaterThan(0);
      expect(stats.refused).toEqual(
        new Set([
          'key_limit_exceeded',
          'project_budget_exceeded',
          'organization_budget_exceeded',
          'insufficient_balance',
        ]),
      );
    });
  });
}

async function build(opened: TreeLedgers, shape: TreeShape): Promise<Tree> {
  const [ledger] = opened.ledgers as [Ledger];
  const owner = (await ledger.createAccount()).id;
  const org = await ledger.createOrg(owner, { name: `org ${owner}` });
  const accountId = org.accountId;
  if (shape.credits > 0n)
    await ledger.addFunds({ accountId, source: 'CREDITS', amountNano: shape.credits * unit, reference: accountId });
  if (shape.diem > 0n) await ledger.setDiemAllowance(accountId, epochAt(start), shape.diem * unit);
  const tree: Tree = { ledger, owner, accountId, orgId: org.id, projects: [], keys: [], ceilings: new Map(), live: [] };
  for (const b of shape.orgBudgets) await setBudget(opened.db, tree, org.id, b, b.amount * unit);
  for (const [i, p] of shape.projects.entries()) {
    const project = await ledger.createProject(owner, org.id, { name: `project ${i}` });
    tree.projects.push(project.id);
    for (const b of p.budgets) await setBudget(opened.db, tree, project.id, b, b.amount * unit);
    for (const limit of p.keys) {
      const limits: KeyLimit[] = limit
        ? [{ currency: limit.currency, period: limit.period, amountNano: limit.amount * unit }]
        : [];
      const { key } = await ledger.createProjectKey(owner, { projectId: project.id, name: 'k', limits });
      tree.keys.push(key.id);
    }
  }
  return tree;
}

type TreeShape = typeof treeArb extends fc.Arbitrary<infer T> ? T : never;
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;
type BudgetShape = { currency: LimitCurrency; period: 'EPOCH' | 'MONTH' };

/**
 * Sets a budget through the teams methods (null amount: removes it) and records its ceiling: its amount, or what
 * was already used if that is more.
 */
async function setBudget(
  db: TreeDb,
  tree: Tree,
  scopeId: string,
  b: BudgetShape,
  amountNano: bigint | null,
): Promise<void> {
  const id = `${scopeId} ${b.currency} ${b.period}`;
  if (amountNano === null && !tree.ceilings.has(id)) return;
  await tree.ledger.setBudget(tree.owner, { scopeId, currency: b.currency, period: b.period, amountNano });
  if (amountNano === null) tree.ceilings.delete(id);
  else {
    const used = await usedOf(db, scopeId, b.currency, b.period);
    tree.ceilings.set(id, maxNano(used, amountNano));
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
    await move(db, tree, step);
  } else if (step.t === 'finish') {
    const live = tree.live.splice(0);
    await Promise.all(live.map((r, i) => endReservation(ledgers[i % 2]!, r, i % 3 === 0 ? 'void' : step.pct)));
  } else {
    await burst(ledgers, tree, step.requests);
  }
}

/**
 * A reallocation between two projects through the teams method, of what the source leaves unused at most; the
 * budgets are made first when missing (the source with twice the amount, the target with none).
 */
async function move(db: TreeDb, tree: Tree, step: Extract<Step, { t: 'move' }>): Promise<void> {
  const from = tree.projects[step.from % tree.projects.length]!;
  const to = tree.projects[(step.from + 1 + (step.to % tree.projects.length)) % tree.projects.length]!;
  const { currency, period } = step;
  if (from === to) return;
  if (!tree.ceilings.has(`${from} ${currency} ${period}`))
    await setBudget(db, tree, from, step, step.amount * 2n * unit);
  if (!tree.ceilings.has(`${to} ${currency} ${period}`)) await setBudget(db, tree, to, step, 0n);
  const [budget] = await db.run(
    'SELECT amount_nano FROM budgets WHERE scope_id = $1 AND currency = $2 AND period = $3',
    [from, currency, period],
  );
  const unused = BigInt(budget!.amount_nano as bigint) - (await usedOf(db, from, currency, period));
  const amountNano = step.amount * unit < unused ? step.amount * unit : unused;
  if (amountNano <= 0n) return;
  try {
    const moved = await tree.ledger.reallocate(tree.owner, {
      fromProjectId: from,
      toProjectId: to,
      currency,
      period,
      amountNano,
    });
    stats.moved++;
    // The move is bounded by what the source left unused: it never ends below its use.
    expect(await usedOf(db, from, currency, period)).toBeLessThanOrEqual(moved.from.amountNano);
    for (const budget of [moved.from, moved.to]) {
      const used = await usedOf(db, budget.scopeId, currency, period);
      tree.ceilings.set(`${budget.scopeId} ${currency} ${period}`, maxNano(used, budget.amountNano));
    }
  } catch (error) {
    if (!(error instanceof PerdiemError) || error.status >= 500) throw error;
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
      stats.refused.add(o.reason.code);
      return;
    }
    stats.reserved++;
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
