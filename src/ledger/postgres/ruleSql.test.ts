/**
 * The PL/pgSQL generated from the rule declarations decides exactly as the TypeScript rules do: the spend order and
 * its refusals, key usability, and idempotent replays, each run in PostgreSQL on random inputs and compared with
 * the TypeScript answer. Skipped, with a printed reason, when PostgreSQL is unreachable.
 */
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NanoUsd } from '../../core/money.ts';
import type { ApiKey } from '../accounts/accountsLedger.ts';
import { keyRefusalOf, keyRefusalSql } from '../accounts/keyUsability.ts';
import {
  capLevels,
  combinedCaps,
  headroomAfterHold,
  type LevelCaps,
  refusalCodes,
  refusalLevelOf,
} from '../metering/budgetRules.ts';
import { headroomsOf, type KeyHeadroom, noKeyHeadroom, reserveRefusal } from '../metering/keyLimitRules.ts';
import type { Reservation } from '../metering/meteringLedger.ts';
import { chooseSource, periodKeyOf } from '../metering/meteringRules.ts';
import { replayRefusalCodes, replayRefusalSql, replayVerdictOf } from '../metering/replayRule.ts';
import { postgresSkipReason, testDatabaseUrl } from '../testing/harness.ts';
import { type FundingSource, fundingSourceOrder, limitCurrencies } from '../vocabulary.ts';
import {
  allCapVariables,
  availableAfterHoldSql,
  chooseSourceSql,
  declareSql,
  headroomAfterHoldSql,
  headroomsSql,
  periodKeySql,
  sqlOfTextRule,
  variableOf,
} from './ruleSql.ts';

const skip = await postgresSkipReason();
const runs = { numRuns: 300, seed: 14 };
const nano = fc.bigInt({ min: 0n, max: 12n });

describe('text rules on SQL expressions', () => {
  it('turns the rule text into literals around the expressions', () => {
    expect(periodKeySql('EPOCH', 'p_epoch', 'p_month')).toBe("'EPOCH:' || p_epoch");
    expect(periodKeySql('LIFETIME', 'p_epoch', 'p_month')).toBe("'LIFETIME'");
    expect(sqlOfTextRule((a) => `it's ${a}`, ['x'])).toBe("'it''s ' || x");
  });

  it('refuses a rule that changes its arguments rather than generating wrong SQL', () => {
    expect(() => sqlOfTextRule((a) => a!.slice(1), ['x'])).toThrow('changed its SQL arguments');
  });
});

describe.skipIf(skip !== null)('generated PL/pgSQL rules', () => {
  let sql: postgres.Sql<{ bigint: bigint }>;

  beforeAll(async () => {
    // One connection: the functions live in its temporary schema.
    sql = postgres(testDatabaseUrl, { max: 1, types: { bigint: postgres.BigInt }, onnotice: () => {} });
    const sources = fundingSourceOrder.map((s) => `${variableOf('v', s)} bigint`);
    await sql.unsafe(`CREATE FUNCTION pg_temp.choose(${sources.join(', ')}, ${allCapVariables.join(' bigint, ')} bigint,
        p_amount bigint, p_min bigint) RETURNS text LANGUAGE plpgsql AS $$
      DECLARE ${declareSql('h', fundingSourceOrder)} ${declareSql('available', fundingSourceOrder)}
        v_source text; v_amount bigint; v_level text; v_tight bigint; o_level text; o_nano bigint;
      BEGIN
        ${headroomsSql()}
        ${chooseSourceSql('p_amount', 'p_min')}
        ${availableAfterHoldSql()}
        ${headroomAfterHoldSql('o_level', 'o_nano')}
        RETURN v_source || ':' || v_amount || ':' || o_level || ':' || o_nano;
      EXCEPTION WHEN raise_exception THEN RETURN SQLERRM;
      END $$`);
    await sql.unsafe(`CREATE FUNCTION pg_temp.key_refusal(p_revoked bigint, p_expires bigint, p_models text[],
        p_now bigint, p_model text) RETURNS text LANGUAGE plpgsql AS $$
      DECLARE k record;
      BEGIN
        SELECT p_revoked AS revoked_at_ms, p_expires AS expires_at_ms, p_models AS allowed_models INTO k;
        ${keyRefusalSql('k', { now: 'p_now', model: 'p_model' })}
        RETURN 'usable';
      EXCEPTION WHEN raise_exception THEN RETURN SQLERRM;
      END $$`);
    const retry = {
      keyId: 'p_key',
      requestHash: 'p_request_hash',
      model: 'p_model',
      amountNano: 'p_amount',
      minAmountNano: 'p_min',
    };
    await sql.unsafe(`CREATE FUNCTION pg_temp.replay(e_key text, e_hash text, e_model text, e_amount bigint,
        p_key text, p_request_hash text, p_model text, p_amount bigint, p_min bigint) RETURNS text LANGUAGE plpgsql AS $$
      DECLARE e record;
      BEGIN
        SELECT e_key AS key_id, e_hash AS request_hash, e_model AS model, e_amount AS amount_nano INTO e;
        ${replayRefusalSql('e', retry)}
        RETURN 'replay';
      EXCEPTION WHEN raise_exception THEN RETURN SQLERRM;
      END $$`);
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  it('chooses the source, its amount, the refusal level and the headroom as the budget-tree rules do', async () => {
    const caps = fc.record(
      Object.fromEntries(limitCurrencies.map((c) => [c, fc.option(nano)])),
    ) as fc.Arbitrary<KeyHeadroom>;
    const levels = fc.record({ key: caps, project: caps, organization: caps }) as fc.Arbitrary<LevelCaps>;
    const balances = fc.record(Object.fromEntries(fundingSourceOrder.map((s) => [s, nano]))) as fc.Arbitrary<
      Record<FundingSource, NanoUsd>
    >;
    await fc.assert(
      fc.asyncProperty(balances, levels, nano, nano, async (available, levelCaps, a, b) => {
        const [min, amount] = a < b ? [a, b] : [b, a];
        const choice = chooseSource(headroomsOf(available, combinedCaps(levelCaps)), amount, min);
        let expected = `perdiem:${refusalCodes[refusalLevelOf(available, levelCaps, min)]}`;
        if (choice) {
          const after = { ...available, [choice.source]: available[choice.source] - choice.amountNano };
          const headroom = headroomAfterHold(levelCaps, after, choice.source, choice.amountNano);
          expected = `${choice.source}:${choice.amountNano}:${headroom.level}:${headroom.remainingNano}`;
        }
        const args = [
          ...fundingSourceOrder.map((s) => available[s]),
          ...capLevels.flatMap((level) => limitCurrencies.map((c) => levelCaps[level][c])),
          amount,
          min,
        ];
        const placeholders = args.map((_, i) => `$${i + 1}::bigint`).join(', ');
        const [row] = await sql.unsafe(`SELECT pg_temp.choose(${placeholders}) AS out`, args as never);
        expect(row!.out).toBe(expected);
      }),
      runs,
    );
  });

  it('names the key level as reserveRefusal does when only key limits cap', () => {
    const available = { DIEM: 5n, CREDITS: 0n, USD: 0n };
    const levels = { key: { DIEM: 1n, USD: null, TOTAL: null }, project: noKeyHeadroom, organization: noKeyHeadroom };
    expect(refusalCodes[refusalLevelOf(available, levels, 2n)]).toBe(reserveRefusal(available, 2n, 2n, []).code);
  });

  it('refuses a key as keyRefusalOf does', async () => {
    const time = fc.option(fc.integer({ min: 0, max: 4 }));
    const models = fc.option(fc.subarray(['m', 'n']));
    await fc.assert(
      fc.asyncProperty(time, time, models, fc.integer({ min: 0, max: 4 }), fc.constantFrom('m', 'n'), async (...k) => {
        const [revokedAtMs, expiresAtMs, allowedModels, nowMs, model] = k;
        const key = { revokedAtMs, expiresAtMs, allowedModels } as ApiKey;
        const expected = keyRefusalOf(key, { model, nowMs });
        const [row] = await sql`SELECT pg_temp.key_refusal(${revokedAtMs}::bigint, ${expiresAtMs}::bigint,
          ${allowedModels}::text[], ${nowMs}::bigint, ${model}) AS out`;
        expect(row!.out).toBe(expected ? `perdiem:${expected.code}` : 'usable');
      }),
      runs,
    );
  });

  it('replays or refuses a retry as replayVerdictOf does', async () => {
    const key = fc.constantFrom('a', 'b', null);
    const hash = fc.constantFrom('h1', 'h2', null);
    const model = fc.constantFrom('m', 'n');
    const amount = fc.bigInt({ min: 0n, max: 4n });
    const attempt = fc.record({ keyId: key, requestHash: hash, model, amountNano: amount, minAmountNano: amount });
    await fc.assert(
      fc.asyncProperty(attempt, attempt, async (earlier, retry) => {
        if (retry.minAmountNano > retry.amountNano) return;
        const verdict = replayVerdictOf(earlier as unknown as Reservation, retry);
        const [row] = await sql`SELECT pg_temp.replay(${earlier.keyId}, ${earlier.requestHash}, ${earlier.model},
          ${earlier.amountNano}::bigint, ${retry.keyId}, ${retry.requestHash}, ${retry.model},
          ${retry.amountNano}::bigint, ${retry.minAmountNano}::bigint) AS out`;
        expect(row!.out).toBe(verdict === 'replay' ? 'replay' : `perdiem:${replayRefusalCodes[verdict]}`);
      }),
      runs,
    );
  });

  it('builds period keys as periodKeyOf does', async () => {
    const [row] = await sql.unsafe(
      `SELECT ${periodKeySql('EPOCH', '$1::bigint', '$2')} AS e, ${periodKeySql('MONTH', '$1::bigint', '$2')} AS m`,
      [20_090, '2025-01'],
    );
    expect([row!.e, row!.m]).toEqual([
      periodKeyOf('EPOCH', 20_090, '2025-01'),
      periodKeyOf('MONTH', 20_090, '2025-01'),
    ]);
  });
});
