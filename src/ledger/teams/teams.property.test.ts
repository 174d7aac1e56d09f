/**
 * Property tests of the budget tree on both adapters: random organizations and projects, random spend, and random
 * budget sets, removals and reallocations by random actors (OWNER, ADMIN, a project admin, a MEMBER, an outsider).
 * - every call succeeds or fails exactly as a model of the rules predicts (with the error code it predicts);
 * - afterwards the budgets equal the model's, no budget is negative, and each organization's audit log replays to
 *   its current budgets;
 * - each reallocation leaves the sum of the organization's project budgets of its currency and period unchanged,
 *   including under concurrent reallocations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { PerdiemError } from '../../core/errors.ts';
import { start } from '../conformanceHelpers.ts';
import { fakeClock } from '../testing/fakeClock.ts';
import type { Ledger } from '../types.ts';
import type { LimitCurrency } from '../vocabulary.ts';
import { budgetKey, budgetsAsReplayed, replayBudgets } from './auditReplay.ts';
import { budgetsOfTree } from './conformance.ts';
import { type SpendLedger, spendLedgerAdapters } from './spendLedgers.ts';
import type { BudgetPeriod, Organization, Project } from './teamsLedger.ts';

const currencies: LimitCurrency[] = ['DIEM', 'USD', 'TOTAL'];
const periods: BudgetPeriod[] = ['EPOCH', 'MONTH'];
const actorRoles = ['owner', 'admin', 'lead', 'member', 'outsider'] as const;
type ActorRole = (typeof actorRoles)[number];

const shape = fc.record({ orgs: fc.integer({ min: 1, max: 2 }), projects: fc.integer({ min: 2, max: 4 }) });
const pick = (n: number) => fc.nat({ max: n });
const step = fc.oneof(
  fc.record({
    t: fc.constant('set' as const),
    actor: fc.constantFrom(...actorRoles),
    org: pick(1),
    scope: pick(4),
    currency: pick(2),
    period: pick(1),
    amount: fc.option(fc.bigInt({ min: 0n, max: 100n }), { freq: 5 }),
  }),
  fc.record({
    t: fc.constant('reallocate' as const),
    actor: fc.oneof(
      { arbitrary: fc.constantFrom('owner' as const, 'admin' as const, 'lead' as const), weight: 4 },
      { arbitrary: fc.constantFrom('member' as const, 'outsider' as const), weight: 1 },
    ),
    org: pick(1),
    from: pick(3),
    /** 0: the same project (refused). */
    toOffset: fc.oneof(
      { arbitrary: fc.constant(0), weight: 1 },
      { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 8 },
    ),
    /** Mostly the seeded (currency, period) pairs. */
    pair: fc.oneof(
      { arbitrary: fc.constantFrom([1, 0] as const, [2, 1] as const), weight: 4 },
      { arbitrary: fc.tuple(pick(2), pick(1)), weight: 1 },
    ),
    amount: fc.bigInt({ min: 0n, max: 40n }),
  }),
  fc.record({
    t: fc.constant('spend' as const),
    org: pick(1),
    project: pick(3),
    spendClass: fc.constantFrom('DIEM' as const, 'USD' as const),
    period: pick(1),
    spent: fc.bigInt({ min: 0n, max: 40n }),
    reserved: fc.bigInt({ min: 0n, max: 40n }),
  }),
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

interface World {
  ledger: Ledger;
  opened: SpendLedger;
  orgs: { org: Organization; projects: Project[]; actors: Record<ActorRole, string> }[];
  /** The model: budgets by "scopeId:currency:period", and spend by "scopeId|class|periodKey". */
  budgets: Map<string, bigint>;
  spend: Map<string, { spent: bigint; reserved: bigint }>;
}

const seedBudgets = [
  ['USD', 'EPOCH'],
  ['TOTAL', 'MONTH'],
] as const;

async function buildWorld(opened: SpendLedger, counts: { orgs: number; projects: number }): Promise<World> {
  const { ledger } = opened;
  const world: World = { ledger, opened, orgs: [], budgets: new Map(), spend: new Map() };
  for (let o = 0; o < counts.orgs; o++) {
    const ids = await Promise.all(actorRoles.map(async (role) => (await ledger.createAccount({ name: role })).id));
    const actors = Object.fromEntries(actorRoles.map((role, i) => [role, ids[i]!])) as Record<ActorRole, string>;
    const org = await ledger.createOrg(actors.owner, { name: `org ${o}` });
    await ledger.setMember(actors.owner, org.id, { accountId: actors.admin, role: 'ADMIN' });
    await ledger.setMember(actors.owner, org.id, { accountId: actors.lead, role: 'MEMBER' });
    await ledger.setMember(actors.owner, org.id, { accountId: actors.member, role: 'MEMBER' });
    const projects: Project[] = [];
    for (let p = 0; p < counts.projects; p++)
      projects.push(await ledger.createProject(actors.admin, org.id, { name: `p${p}` }));
    await ledger.setProjectAdmin(actors.owner, projects[0]!.id, { accountId: actors.lead, admin: true });
    world.orgs.push({ org, projects, actors });
    // Every project starts with a USD per-epoch and a TOTAL per-month budget, so that reallocations meet budgets.
    for (const [project, [currency, period]] of projects.flatMap((p) => seedBudgets.map((b) => [p, b] as const))) {
      await ledger.setBudget(actors.admin, { scopeId: project.id, currency, period, amountNano: 50n });
      world.budgets.set(budgetKey({ scopeId: project.id, currency, period }), 50n);
    }
  }
  return world;
}

const periodKeyOf = (period: BudgetPeriod, nowMs: number) =>
  period === 'EPOCH' ? `EPOCH:${epochAt(nowMs)}` : `MONTH:${monthAt(nowMs)}`;

function unusedInModel(world: World, scopeId: string, currency: LimitCurrency, period: BudgetPeriod): bigint {
  const amount = world.budgets.get(`${scopeId}:${currency}:${period}`)!;
  let used = 0n;
  for (const spendClass of ['DIEM', 'USD'] as const) {
    if (currency !== 'TOTAL' && currency !== spendClass) continue;
    const row = world.spend.get(`${scopeId}|${spendClass}|${periodKeyOf(period, start)}`);
    used += (row?.spent ?? 0n) + (row?.reserved ?? 0n);
  }
  return amount - used > 0n ? amount - used : 0n;
}

function currencyPeriodOf(s: Exclude<Step, { t: 'spend' }>): [LimitCurrency, BudgetPeriod] {
  const [c, p] = s.t === 'set' ? [s.currency, s.period] : s.pair;
  return [currencies[c]!, periods[p]!];
}

function projectsOf(projects: Project[], s: Extract<Step, { t: 'reallocate' }>): [Project, Project] {
  const from = s.from % projects.length;
  return [projects[from]!, projects[(from + s.toOffset) % projects.length]!];
}

/** What the rules say a step does: null (it succeeds) or the error code it fails with. */
function expectedRefusal(world: World, s: Step): string | null {
  if (s.t === 'spend') return null;
  const { projects, org } = world.orgs[s.org % world.orgs.length]!;
  const [currency, period] = currencyPeriodOf(s);
  const role = s.actor;
  if (s.t === 'set') {
    const scopeId = s.scope === 0 ? org.id : projects[(s.scope - 1) % projects.length]!.id;
    if (role === 'outsider') return s.scope === 0 ? 'organization_not_found' : 'project_not_found';
    if (role === 'lead' || role === 'member') return 'forbidden';
    if (s.amount === null && !world.budgets.has(`${scopeId}:${currency}:${period}`)) return 'budget_not_found';
    return null;
  }
  const [from, to] = projectsOf(projects, s);
  if (from.id === to.id || s.amount === 0n) return 'invalid_request';
  if (role === 'outsider') return 'project_not_found';
  if (role === 'member' || (role === 'lead' && from.id !== projects[0]!.id)) return 'forbidden';
  for (const p of [from, to]) if (!world.budgets.has(`${p.id}:${currency}:${period}`)) return 'budget_not_found';
  return s.amount > unusedInModel(world, from.id, currency, period) ? 'budget_in_use' : null;
}

/** Runs a step against the ledger and the model; returns the error code, or null. */
async function run(world: World, s: Step): Promise<string | null> {
  const { actors, projects, org } = world.orgs[s.org % world.orgs.length]!;
  if (s.t === 'spend') {
    const scopeId = projects[s.project % projects.length]!.id;
    const periodKey = periodKeyOf(periods[s.period]!, start);
    await world.opened.writeSpend(scopeId, s.spendClass, periodKey, s.spent, s.reserved);
    world.spend.set(`${scopeId}|${s.spendClass}|${periodKey}`, { spent: s.spent, reserved: s.reserved });
    return null;
  }
  const [currency, period] = currencyPeriodOf(s);
  const actor = s.actor === 'outsider' ? outsiderOf(world, s.org) : actors[s.actor];
  try {
    if (s.t === 'set') {
      const scopeId = s.scope === 0 ? org.id : projects[(s.scope - 1) % projects.length]!.id;
      await world.ledger.setBudget(actor, { scopeId, currency, period, amountNano: s.amount });
      const key = budgetKey({ scopeId, currency, period });
      if (s.amount === null) world.budgets.delete(key);
      else world.budgets.set(key, s.amount);
      return null;
    }
    const [from, to] = projectsOf(projects, s);
    const moved = await world.ledger.reallocate(actor, {
      fromProjectId: from.id,
      toProjectId: to.id,
      currency,
      period,
      amountNano: s.amount,
    });
    world.budgets.set(budgetKey(moved.from), moved.from.amountNano);
    world.budgets.set(budgetKey(moved.to), moved.to.amountNano);
    return null;
  } catch (error) {
    if (!(error instanceof PerdiemError)) throw error;
    return error.code;
  }
}

/** An account that belongs to no organization of the world but its own. */
function outsiderOf(world: World, orgIndex: number): string {
  return world.orgs[orgIndex % world.orgs.length]!.actors.outsider;
}

/** The sum of an organization's project budgets per "currency:period". */
async function projectTotals(world: World, orgIndex: number): Promise<Map<string, bigint>> {
  const { org, actors } = world.orgs[orgIndex]!;
  const tree = await world.ledger.orgTree(actors.owner, org.id);
  const totals = new Map<string, bigint>();
  for (const b of tree.projects.flatMap((p) => p.budgets)) {
    totals.set(`${b.currency}:${b.period}`, (totals.get(`${b.currency}:${b.period}`) ?? 0n) + b.amountNano);
  }
  return totals;
}

async function expectReplayAndModel(world: World): Promise<void> {
  const all = new Map<string, bigint>();
  for (const { org, actors } of world.orgs) {
    const budgets = budgetsOfTree(await world.ledger.orgTree(actors.owner, org.id));
    for (const b of budgets) {
      expect(b.amountNano >= 0n).toBe(true);
      all.set(budgetKey(b), b.amountNano);
    }
    const audit = await world.ledger.auditLog(actors.owner, org.id, { limit: 1000 });
    expect(replayBudgets(audit)).toEqual(budgetsAsReplayed(budgets));
  }
  expect(all).toEqual(world.budgets);
}

/** How often each (step, outcome) occurred: the run checks that every rule was exercised. */
const outcomes = new Map<string, number>();

for (const adapter of spendLedgerAdapters) {
  describe.skipIf(adapter.skip !== null)(`teams properties: ${adapter.name}`, () => {
    it('follows the rules step by step, conserves reallocated budget, and replays its audit log', async () => {
      await fc.assert(
        fc.asyncProperty(shape, fc.array(step, { minLength: 5, maxLength: 30 }), async (counts, steps) => {
          const opened = await adapter.open(fakeClock(start));
          try {
            const world = await buildWorld(opened, counts);
            for (const s of steps) {
              const orgIndex = s.org % world.orgs.length;
              const before = s.t === 'reallocate' ? await projectTotals(world, orgIndex) : null;
              const expected = expectedRefusal(world, s);
              expect(await run(world, s)).toBe(expected);
              outcomes.set(`${s.t}:${expected}`, (outcomes.get(`${s.t}:${expected}`) ?? 0) + 1);
              if (before) expect(await projectTotals(world, orgIndex)).toEqual(before);
            }
            await expectReplayAndModel(world);
          } finally {
            await opened.close();
          }
        }),
        { numRuns: adapter.name === 'sqlite' ? 40 : 15, seed: 15_0001 },
      );
      console.log(adapter.name, [...outcomes].sort().join(' '));
      for (const outcome of ['set:null', 'set:forbidden', 'set:budget_not_found', 'set:project_not_found']) {
        expect(outcomes.get(outcome), outcome).toBeGreaterThan(0);
      }
      for (const code of ['null', 'forbidden', 'budget_not_found', 'budget_in_use', 'invalid_request']) {
        expect(outcomes.get(`reallocate:${code}`), code).toBeGreaterThan(0);
      }
      outcomes.clear();
    });

    it('conserves the project budgets under concurrent reallocations, and never goes negative', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ from: pick(3), to: pick(3), amount: fc.bigInt({ min: 1n, max: 30n }) }), {
            minLength: 4,
            maxLength: 16,
          }),
          async (moves) => {
            const opened = await adapter.open(fakeClock(start));
            try {
              const world = await buildWorld(opened, { orgs: 1, projects: 4 });
              const { org, projects, actors } = world.orgs[0]!;
              for (const p of projects) {
                const input = { scopeId: p.id, currency: 'USD' as const, period: 'EPOCH' as const, amountNano: 40n };
                // Replaces the seeded 50.
                await opened.ledger.setBudget(actors.admin, input);
                world.budgets.set(budgetKey(input), 40n);
              }
              const results = await Promise.allSettled(
                moves.map((m) =>
                  opened.ledger.reallocate(actors.owner, {
                    fromProjectId: projects[m.from]!.id,
                    toProjectId: projects[m.to]!.id,
                    currency: 'USD',
                    period: 'EPOCH',
                    amountNano: m.amount,
                  }),
                ),
              );
              for (const r of results) {
                if (r.status === 'rejected') expect(['invalid_request', 'budget_in_use']).toContain(r.reason.code);
              }
              const budgets = budgetsOfTree(await opened.ledger.orgTree(actors.owner, org.id));
              const usdEpoch = budgets.filter((b) => b.currency === 'USD' && b.period === 'EPOCH');
              expect(usdEpoch.reduce((sum, b) => sum + b.amountNano, 0n)).toBe(160n);
              expect(budgets.every((b) => b.amountNano >= 0n)).toBe(true);
              const audit = await opened.ledger.auditLog(actors.owner, org.id, { limit: 1000 });
              expect(replayBudgets(audit)).toEqual(budgetsAsReplayed(budgets));
              const succeeded = results.filter((r) => r.status === 'fulfilled').length;
              expect(audit.filter((e) => e.action === 'budget.reallocate')).toHaveLength(succeeded);
            } finally {
              await opened.close();
            }
          },
        ),
        { numRuns: adapter.name === 'sqlite' ? 30 : 10, seed: 15_0002 },
      );
    });
  });
}
