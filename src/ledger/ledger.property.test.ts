/**
 * Property tests: random interleavings of reserve / settle / void / expire / retry across several accounts, keys
 * (with random limits) and sources. After every step, against the ledger's own state:
 * - no source is overdrawn: each source's available + reserved + charged equals what was funded into it;
 * - no key limit is exceeded: settled charges plus live holds in the current period, from the sources the limit
 *   covers (TOTAL: every source), stay within every limit of the key (up to two, of any currencies);
 * - in every journal transaction debits equal credits, and the journal's balances match the ledger's;
 * - a retried idempotency key is charged at most once, and a replay returns the original reservation;
 * - the sum of usage equals the sum of charge debits, and no reservation is charged more than it reserved.
 * Steps of several commands run concurrently (Promise.all), so the adapters see genuinely interleaved calls.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { epochAt, epochStartMs } from '../core/epoch.ts';
import { PerdiemError } from '../core/errors.ts';
import { expectBalancedJournal, line } from './conformance.ts';
import { allUsage } from './testing/allUsage.ts';
import { fakeClock } from './testing/fakeClock.ts';
import { type LedgerHarness, postgresHarness, sqliteHarness } from './testing/harness.ts';
import type { FundingSource, KeyLimit, Ledger, Reservation, ReserveInput } from './types.ts';
import { limitCovers } from './types.ts';

const accountsCount = 3;
const keysPerAccount = 2;
const ttlMs = 60_000;
const start = Date.UTC(2025, 2, 10, 6);

const amount = (max: bigint) => fc.bigInt({ min: 0n, max });
const limitsArb = fc.uniqueArray(
  fc.record({
    currency: fc.constantFrom('USD' as const, 'DIEM' as const, 'TOTAL' as const),
    period: fc.constantFrom('EPOCH' as const, 'MONTH' as const, 'LIFETIME' as const),
    amountNano: amount(4_000n),
  }),
  { maxLength: 2, selector: (limit) => `${limit.currency}:${limit.period}` },
);
const command = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant('reserve' as const),
      account: fc.nat(accountsCount - 1),
      key: fc.nat(keysPerAccount), // == keysPerAccount: no key
      idem: fc.nat(7),
      amount: fc.bigInt({ min: 1n, max: 3_000n }),
      flexible: fc.boolean(),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ t: fc.constant('settle' as const), pick: fc.nat(), pct: fc.integer({ min: 0, max: 150 }) }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant('void' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('retry' as const), pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({ t: fc.constant('expire' as const), advanceMs: fc.integer({ min: 0, max: 90_000 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('allowance' as const),
      account: fc.nat(accountsCount - 1),
      add: amount(2_000n),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ t: fc.constant('nextEpoch' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      t: fc.constant('limit' as const),
      account: fc.nat(accountsCount - 1),
      key: fc.nat(keysPerAccount - 1),
      limits: limitsArb,
    }),
    weight: 1,
  },
);
type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

const scenario = fc.record({
  funds: fc.array(fc.record({ diem: amount(5_000n), credits: amount(5_000n), usd: amount(5_000n) }), {
    minLength: accountsCount,
    maxLength: accountsCount,
  }),
  limits: fc.array(limitsArb, { minLength: accountsCount * keysPerAccount, maxLength: accountsCount * keysPerAccount }),
  steps: fc.array(fc.array(command, { minLength: 1, maxLength: 4 }), { minLength: 4, maxLength: 24 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface World {
  ledger: Ledger;
  clock: ReturnType<typeof fakeClock>;
  accounts: string[];
  /** `limitChanged`: the limits were set or removed after the key had spent, so they may start out exceeded. */
  keys: { id: string; accountId: string; limits: KeyLimit[]; limitChanged: boolean }[];
  funded: Map<string, Record<'CREDITS' | 'USD', bigint>>;
  allowance: Map<string, bigint>; // `${account}:${epoch}`
  reservations: Map<string, Reservation>;
  inputs: ReserveInput[];
}

async function setUp(ledger: Ledger, clock: ReturnType<typeof fakeClock>, s: Scenario): Promise<World> {
  const world: World = {
    ledger,
    clock,
    accounts: [],
    keys: [],
    funded: new Map(),
    allowance: new Map(),
    reservations: new Map(),
    inputs: [],
  };
  for (const [i, funds] of s.funds.entries()) {
    const account = await ledger.createAccount();
    world.accounts.push(account.id);
    world.funded.set(account.id, { CREDITS: funds.credits, USD: funds.usd });
    if (funds.credits > 0n)
      await ledger.addFunds({
        accountId: account.id,
        source: 'CREDITS',
        amountNano: funds.credits,
        reference: `c${i}`,
      });
    if (funds.usd > 0n)
      await ledger.addFunds({ accountId: account.id, source: 'USD', amountNano: funds.usd, reference: `u${i}` });
    await setAllowance(world, account.id, funds.diem);
    for (let k = 0; k < keysPerAccount; k++) {
      const limits = s.limits[i * keysPerAccount + k] ?? [];
      const { key } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: `k${k}`, limits });
      world.keys.push({ id: key.id, accountId: account.id, limits, limitChanged: false });
    }
  }
  return world;
}

async function setAllowance(world: World, accountId: string, allowanceNano: bigint): Promise<void> {
  const epoch = epochAt(world.clock.now());
  await world.ledger.setDiemAllowance(accountId, epoch, allowanceNano);
  world.allowance.set(`${accountId}:${epoch}`, allowanceNano);
}

function pick<T>(items: T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

async function apply(world: World, c: Command): Promise<void> {
  const { ledger } = world;
  const ids = [...world.reservations.keys()];
  switch (c.t) {
    case 'reserve': {
      const accountId = world.accounts[c.account]!;
      const key = c.key < keysPerAccount ? world.keys[c.account * keysPerAccount + c.key]! : null;
      const input: ReserveInput = {
        accountId,
        keyId: key?.id ?? null,
        idempotencyKey: `idem-${c.idem}`,
        model: 'm',
        amountNano: c.amount,
        minAmountNano: c.flexible ? c.amount / 4n : undefined,
        ttlMs,
      };
      world.inputs.push(input);
      return record(world, input);
    }
    case 'retry': {
      const input = pick(world.inputs, c.pick);
      return input ? record(world, input) : undefined;
    }
    case 'settle': {
      const id = pick(ids, c.pick);
      if (!id) return;
      const reserved = world.reservations.get(id)!.amountNano;
      const actual = (reserved * BigInt(c.pct)) / 100n;
      const half = actual / 2n;
      const { reservation } = await ledger.settle({
        reservationId: id,
        lines: [line(half, 'in'), line(actual - half, 'out')],
        latencyMs: 1,
      });
      world.reservations.set(id, reservation);
      return;
    }
    case 'void': {
      const id = pick(ids, c.pick);
      if (id) world.reservations.set(id, await ledger.void(id));
      return;
    }
    case 'expire':
      world.clock.advance(c.advanceMs);
      await ledger.expireReservations();
      return;
    case 'allowance': {
      const accountId = world.accounts[c.account]!;
      const current = world.allowance.get(`${accountId}:${epochAt(world.clock.now())}`) ?? 0n;
      return setAllowance(world, accountId, current + c.add);
    }
    case 'nextEpoch':
      world.clock.set(epochStartMs(epochAt(world.clock.now()) + 1) + 1_000);
      return;
    case 'limit': {
      const key = world.keys[c.account * keysPerAccount + c.key]!;
      await ledger.updateKey(key.id, { limits: c.limits });
      key.limits = c.limits;
      key.limitChanged = true;
      return;
    }
  }
}

async function record(world: World, input: ReserveInput): Promise<void> {
  const live = [...world.reservations.values()].find(
    (r) =>
      r.accountId === input.accountId &&
      r.idempotencyKey === input.idempotencyKey &&
      r.status !== 'VOIDED' &&
      r.status !== 'EXPIRED',
  );
  const result = await world.ledger.reserve(input);
  if (result.replayed) {
    // A replay returns the original reservation, never a second one.
    expect(live === undefined || live.id === result.reservation.id).toBe(true);
    return;
  }
  world.reservations.set(result.reservation.id, result.reservation);
}

/**
 * Only typed refusals (402, 409, 404, 401, 403, and 422 for an idempotency key reused by another API key) are
 * acceptable outcomes of a random command.
 */
function expectTypedRefusal(outcome: PromiseSettledResult<void>): void {
  if (outcome.status === 'fulfilled') return;
  if (!(outcome.reason instanceof PerdiemError)) throw outcome.reason;
  expect([401, 402, 403, 404, 409, 422]).toContain(outcome.reason.status);
}

async function checkInvariants(world: World): Promise<void> {
  const { ledger } = world;
  const now = world.clock.now();
  const epoch = epochAt(now);
  // Refresh every reservation from the ledger (expiries happen inside it).
  for (const id of world.reservations.keys()) world.reservations.set(id, (await ledger.getReservation(id))!);
  const reservations = [...world.reservations.values()];
  let usageTotal = 0n;

  for (const accountId of world.accounts) {
    const usage = await allUsage(ledger, accountId);
    const charged = (source: FundingSource, epochOnly?: number) =>
      usage
        .filter((u) => u.source === source && (epochOnly === undefined || u.epoch === epochOnly))
        .reduce((a, u) => a + u.amountNano, 0n);
    usageTotal += usage.reduce((a, u) => a + u.amountNano, 0n);
    const balance = await ledger.balance(accountId);
    const funded = world.funded.get(accountId)!;
    // No source overdrawn, nothing created or lost.
    for (const [source, b] of [
      ['CREDITS', balance.credits],
      ['USD', balance.usd],
    ] as const) {
      expect(b.availableNano >= 0n && b.reservedNano >= 0n).toBe(true);
      expect(b.availableNano + b.reservedNano + charged(source)).toBe(funded[source]);
    }
    const allowance = world.allowance.get(`${accountId}:${epoch}`) ?? 0n;
    expect(balance.diem.allowanceNano).toBe(allowance);
    expect(balance.diem.spentNano).toBe(charged('DIEM', epoch));
    expect(balance.diem.spentNano + balance.diem.reservedNano <= allowance).toBe(true);
    // Live holds in the ledger are exactly the live reservations.
    const held = (source: FundingSource) =>
      reservations
        .filter(
          (r) =>
            r.accountId === accountId &&
            r.status === 'RESERVED' &&
            r.source === source &&
            (source !== 'DIEM' || r.epoch === epoch),
        )
        .reduce((a, r) => a + r.amountNano, 0n);
    expect([balance.diem.reservedNano, balance.credits.reservedNano, balance.usd.reservedNano]).toEqual([
      held('DIEM'),
      held('CREDITS'),
      held('USD'),
    ]);
    // Usage per reservation sums to its charge.
    for (const r of reservations.filter((x) => x.accountId === accountId && x.status === 'SETTLED')) {
      expect(r.chargedNano! <= r.amountNano).toBe(true);
      expect(usage.filter((u) => u.reservationId === r.id).reduce((a, u) => a + u.amountNano, 0n)).toBe(r.chargedNano);
    }
  }

  // Key limits: settled charges plus live holds in the current period stay within the limit (a limit set later may
  // start out exceeded), and what the ledger lets the key spend is exactly the limit's remainder, capped by each
  // source's balance, however the limit came and went.
  for (const key of world.keys) {
    if (key.limits.length === 0) continue;
    const month = new Date(now).toISOString().slice(0, 7);
    const left = key.limits.map(({ currency, period, amountNano }) => {
      const used = reservations
        .filter((r) => r.keyId === key.id && limitCovers(currency, r.source))
        .filter((r) => period === 'LIFETIME' || (period === 'EPOCH' ? r.epoch === epoch : r.month === month))
        .reduce(
          (a, r) => a + (r.status === 'RESERVED' ? r.amountNano : r.status === 'SETTLED' ? r.chargedNano! : 0n),
          0n,
        );
      const label = `key ${key.id} ${currency} ${period}`;
      if (!key.limitChanged) expect(used <= amountNano, `${label} used ${used} > ${amountNano}`).toBe(true);
      return { currency, leftNano: amountNano > used ? amountNano - used : 0n };
    });
    const balance = await ledger.balance(key.accountId);
    const available: Record<FundingSource, bigint> = {
      DIEM: balance.diem.availableNano,
      CREDITS: balance.credits.availableNano,
      USD: balance.usd.availableNano,
    };
    const { sources } = await ledger.spendable({ accountId: key.accountId, keyId: key.id });
    for (const { source, headroomNano } of sources) {
      let cap = available[source];
      for (const { currency, leftNano } of left) if (limitCovers(currency, source) && leftNano < cap) cap = leftNano;
      expect(headroomNano, `key ${key.id} headroom in ${source}`).toBe(cap);
    }
  }

  // An idempotency key is charged at most once.
  const settledPerKey = new Map<string, number>();
  for (const r of reservations.filter((x) => x.status === 'SETTLED')) {
    const k = `${r.accountId}:${r.idempotencyKey}`;
    settledPerKey.set(k, (settledPerKey.get(k) ?? 0) + 1);
  }
  for (const count of settledPerKey.values()) expect(count).toBe(1);

  // Journal: balanced transactions; charges equal usage; account ledger accounts match the balances.
  const journal = await ledger.journal();
  expectBalancedJournal(journal);
  const chargeDebits = journal
    .filter((e) => e.kind === 'CHARGE' && e.side === 'DEBIT')
    .reduce((a, e) => a + e.amountNano, 0n);
  expect(chargeDebits).toBe(usageTotal);
  for (const accountId of world.accounts) {
    const balance = await ledger.balance(accountId);
    const net = (ledgerAccount: string) =>
      journal
        .filter((e) => e.ledgerAccount === ledgerAccount)
        .reduce((a, e) => a + (e.side === 'CREDIT' ? e.amountNano : -e.amountNano), 0n);
    expect(net(`account:${accountId}:credits`)).toBe(balance.credits.availableNano + balance.credits.reservedNano);
    expect(net(`account:${accountId}:usd`)).toBe(balance.usd.availableNano + balance.usd.reservedNano);
    expect(net(`account:${accountId}:diem:${epoch}`)).toBe(balance.diem.allowanceNano - balance.diem.spentNano);
  }
}

async function runScenario(harness: LedgerHarness, s: Scenario): Promise<void> {
  const clock = fakeClock(start);
  const ledger = await harness.open(clock.now);
  try {
    const world = await setUp(ledger, clock, s);
    for (const step of s.steps) {
      const outcomes = await Promise.allSettled(step.map((c) => apply(world, c)));
      for (const outcome of outcomes) expectTypedRefusal(outcome);
      await checkInvariants(world);
    }
    // Finally every hold expires: nothing stays reserved.
    clock.advance(ttlMs + 1);
    await ledger.expireReservations();
    await checkInvariants(world);
    expect([...world.reservations.values()].filter((r) => r.status === 'RESERVED')).toEqual([]);
  } finally {
    await ledger.close();
  }
}

const harnesses: [LedgerHarness, number][] = [
  [sqliteHarness, 100],
  [await postgresHarness(), 25],
];

for (const [harness, numRuns] of harnesses) {
  describe.skipIf(harness.skipReason !== null)(`ledger properties: ${harness.name}`, () => {
    afterAll(() => {});
    it('never overspends a source or a key limit, balances every journal transaction and charges a retry once', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, (s) => runScenario(harness, s)),
        { numRuns, seed: Number(process.env.PERDIEM_PROPERTY_SEED ?? 20250310) },
      );
    }, 150_000);
  });
}
