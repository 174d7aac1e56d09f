/**
 * PL/pgSQL fragments generated from the TypeScript rule declarations, so that the ledger functions (functions.ts)
 * and the SQLite adapter run the same rules: change a declaration and both adapters change. Each fragment names
 * its source: the spend order (`fundingSourceOrder`, `chooseSource`), which limit currency caps which source
 * (`limitCovers`, `limitCurrencies`), a source's spend class (`limitCurrencyOf`), period keys (`periodKeyOf`,
 * `limitPeriods`) and journal account names (`ledgerAccountOf`). Key usability (accounts/keyUsability.ts) and
 * the idempotency replay rule (metering/replayRule.ts) generate their own fragments beside their declarations.
 *
 * Written in SQL as well as in TypeScript, because they are arithmetic on rows rather than declarations: the charge
 * cap (`capCharge`: least(actual, reserved)) and its spread over usage lines (`allocateCharge`: a running sum), and
 * the storage layout (the DIEM allowance in a per-epoch row, credits and USD in balance rows). The value domains of
 * the applied migrations (sources, statuses, limit currencies) stay as they were created. ruleSql.test.ts runs the
 * generated fragments against the TypeScript rules.
 */
import { budgetClassSql, type CapLevel, capLevels, refusalCodes } from '../metering/budgetRules.ts';
import { ledgerAccountOf, periodKeyOf } from '../metering/meteringRules.ts';
import { budgetPeriods } from '../teams/teamsLedger.ts';
import {
  type FundingSource,
  fundingSourceOrder,
  type LimitCurrency,
  type LimitPeriod,
  limitCovers,
  limitCurrencies,
  limitCurrencyOf,
  limitPeriods,
} from '../vocabulary.ts';

/** An SQL string literal. */
export function quoteSql(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A text rule evaluated on SQL expressions: the rule runs on marker strings, and the text it builds becomes a
 * concatenation of literals and the expressions. Only for rules that place their arguments in the text unchanged
 * (template literals); a rule that transforms an argument throws here, at install, rather than generating wrong SQL.
 */
export function sqlOfTextRule(rule: (...marks: string[]) => string, expressions: readonly string[]): string {
  const marks = expressions.map((_, i) => `⟦${i}⟧`);
  const parts = rule(...marks).split(/⟦(\d+)⟧/);
  if (parts.some((part) => /[⟦⟧]/.test(part))) throw new Error('a text rule changed its SQL arguments');
  const pieces = parts.flatMap((part, i) =>
    i % 2 === 1 ? [expressions[Number(part)]!] : part === '' ? [] : [quoteSql(part)],
  );
  return pieces.length === 0 ? "''" : pieces.join(' || ');
}

/** The PL/pgSQL variable of a source or currency: `${prefix}_diem`, `${prefix}_credits`… */
export function variableOf(prefix: string, name: FundingSource | LimitCurrency): string {
  return `${prefix}_${name.toLowerCase()}`;
}

/** A CASE over a source expression, one branch per source. */
function caseOfSource(source: string, branch: (source: FundingSource) => string): string {
  return `CASE ${source} ${fundingSourceOrder.map((s) => `WHEN '${s}' THEN ${branch(s)}`).join(' ')} END`;
}

/** `periodKeyOf(period, epoch, month)` on SQL expressions. */
export function periodKeySql(period: LimitPeriod, epoch: string, month: string): string {
  // The epoch is a number in TypeScript; here it is a marker the rule places in its text.
  return sqlOfTextRule((e, m) => periodKeyOf(period, e as unknown as number, m!), [epoch, month]);
}

/** Every period counter a counted reservation moves, as an SQL list. */
export function periodKeysSql(epoch: string, month: string): string {
  return limitPeriods.map((period) => periodKeySql(period, epoch, month)).join(', ');
}

/** The number of period counters per limit currency a counted reservation moves. */
export const periodCount = limitPeriods.length;

/** The counter key a limit (its period in `periodColumn`) reads in the period of (epoch, month). */
export function limitPeriodKeySql(periodColumn: string, epoch: string, month: string): string {
  const branches = limitPeriods.map((period) => `WHEN '${period}' THEN ${periodKeySql(period, epoch, month)}`);
  return `CASE ${periodColumn} ${branches.join(' ')} END`;
}

/** The limit currencies that count spend from `source` (`limitCovers`). */
export function coveringCurrencies(source: FundingSource): LimitCurrency[] {
  return limitCurrencies.filter((currency) => limitCovers(currency, source));
}

/** The spend class (`limitCurrencyOf`) of the source in `source`: usage rows record it. */
export function spendCurrencySql(source: string): string {
  return caseOfSource(source, (s) => quoteSql(limitCurrencyOf(s)));
}

/** The journal account (`ledgerAccountOf`) of the source in `source`, for an account and an epoch expression. */
export function ledgerAccountSql(account: string, source: string, epoch: string): string {
  return caseOfSource(source, (s) =>
    sqlOfTextRule((a, e) => ledgerAccountOf(a!, s, e as unknown as number), [account, epoch]),
  );
}

/** The prefix of each cap level's variables: `v_cap_<currency>` for the key's limits, and so on. */
export const capPrefixes: Record<CapLevel, string> = { key: 'v_cap', project: 'v_pcap', organization: 'v_ocap' };

/** The limit-cap variables of a level, one per limit currency: the least any limit (budget) in it leaves. */
export const levelCapVariables = (level: CapLevel) => limitCurrencies.map((c) => variableOf(capPrefixes[level], c));

/** The key's limit-cap variables. */
export const capVariables = levelCapVariables('key');

/** Every level's cap variables, key first. */
export const allCapVariables = capLevels.flatMap(levelCapVariables);

/** The least a level's caps leave on `source` (`levelCapOf`); NULL when the level does not cap it. */
function levelCapSql(level: CapLevel, source: FundingSource): string {
  return `least(${coveringCurrencies(source)
    .map((c) => variableOf(capPrefixes[level], c))
    .join(', ')})`;
}

/** Every period counter of a project or organization (`budgetPeriods`), as an SQL list. */
export function budgetPeriodKeysSql(epoch: string, month: string): string {
  return budgetPeriods.map((period) => periodKeySql(period, epoch, month)).join(', ');
}

/** The number of budget_spend rows one reservation moves: two scopes (project, organization), each period. */
export const budgetRowCount = 2 * budgetPeriods.length;

/**
 * The select list of the project's and the organization's caps (`budgetCapsOf`), over budgets `b` joined to what its
 * scope used `u.used` (see budgetUsedSql): per level and currency, what the tightest budget leaves.
 */
export function budgetCapsSelectSql(): string {
  const left = 'greatest(b.amount_nano - coalesce(u.used, 0), 0)';
  const scopes: [CapLevel, string][] = [
    ['project', 'PROJECT'],
    ['organization', 'ORGANIZATION'],
  ];
  return scopes
    .flatMap(([, scope]) =>
      limitCurrencies.map((c) => `min(${left}) FILTER (WHERE b.scope = '${scope}' AND b.currency = '${c}')`),
    )
    .join(',\n    ');
}

/** What budget `b`'s scope used (spent + reserved) in its current period, over the classes it covers. */
export function budgetUsedSql(epoch: string, month: string): string {
  return `SELECT sum(s.spent_nano + s.reserved_nano) AS used FROM budget_spend s
      WHERE s.scope_id = b.scope_id AND s.period_key = ${limitPeriodKeySql('b.period', epoch, month)}
        AND ${budgetClassSql('b.currency', 's.class')}`;
}

/**
 * What key limit `l` used (spent + reserved) in its current period: its class counter, or both classes' for TOTAL
 * (`budgetClassesOf`), as a budget reads budget_spend.
 */
export function limitUsedSql(epoch: string, month: string): string {
  return `SELECT sum(s.spent_nano + s.reserved_nano) AS used FROM key_spend s
      WHERE s.key_id = l.key_id AND s.period_key = ${limitPeriodKeySql('l.period', epoch, month)}
        AND ${budgetClassSql('l.currency', 's.currency')}`;
}

/**
 * The select list of the caps, one per limit currency, over key_limits `l` joined to what it used `u.used` (see
 * limitUsedSql): what the tightest limit of each currency leaves (`keyHeadroomOf`); NULL when the key has no limit in
 * it.
 */
export function limitCapsSelectSql(): string {
  const left = 'greatest(l.amount_nano - coalesce(u.used, 0), 0)';
  return limitCurrencies.map((currency) => `min(${left}) FILTER (WHERE l.currency = '${currency}')`).join(',\n    ');
}

/**
 * Each source's headroom (`headroomsOf`): what it has available (`v_<source>`), capped by every limit currency that
 * covers it; least() ignores NULLs, so a currency without a limit caps nothing.
 */
export function headroomsSql(): string {
  return fundingSourceOrder
    .map((source) => {
      const caps = capLevels.flatMap((level) =>
        coveringCurrencies(source).map((currency) => variableOf(capPrefixes[level], currency)),
      );
      return `${variableOf('h', source)} := least(${[variableOf('v', source), ...caps].join(', ')});`;
    })
    .join('\n  ');
}

/**
 * The spend order (`chooseSource`): the first source in `fundingSourceOrder` whose headroom covers the maximum pays
 * it all; else the source with the most headroom (ties to the earlier) pays its headroom if that covers the
 * minimum; else the refusal of `refusalLevelOf`, raised as its level's code (`refusalCodes`).
 */
export function chooseSourceSql(amount: string, min: string): string {
  const [first, ...rest] = fundingSourceOrder;
  const h = (source: FundingSource) => variableOf('h', source);
  const covering = fundingSourceOrder
    .map((s, i) => `${i === 0 ? 'IF' : 'ELSIF'} ${h(s)} >= ${amount} THEN v_source := '${s}'; v_amount := ${amount};`)
    .join('\n  ');
  const most = rest.map((s) => `IF ${h(s)} > v_amount THEN v_source := '${s}'; v_amount := ${h(s)}; END IF;`);
  return `${covering}
  ELSE
    v_source := '${first}'; v_amount := ${h(first!)};
    ${most.join('\n    ')}
    IF v_amount < ${min} THEN
      ${refusalLevelSql(min)}
    END IF;
  END IF;`;
}

/**
 * The level that refuses (`refusalLevelOf`) into v_level, raised as its code: among the sources whose balance covers
 * the minimum, the level whose cap is the least below it, ties to the earlier level. Needs v_level text, v_tight bigint.
 */
function refusalLevelSql(min: string): string {
  const checks = capLevels.flatMap((level) =>
    fundingSourceOrder.map((s) => {
      const cap = levelCapSql(level, s);
      return `IF ${variableOf('v', s)} >= ${min} AND ${cap} < ${min} AND (v_tight IS NULL OR ${cap} < v_tight) THEN
        v_tight := ${cap}; v_level := '${level}';
      END IF;`;
    }),
  );
  const codes = Object.entries(refusalCodes).map(([level, code]) => `WHEN '${level}' THEN '${code}'`);
  return `v_level := 'source'; v_tight := NULL;
      ${checks.join('\n      ')}
      RAISE EXCEPTION 'perdiem:%', CASE v_level ${codes.join(' ')} END;`;
}

/**
 * The tightest remaining amount after the hold of v_amount on v_source (`headroomAfterHold`) into `level` and
 * `nano`: each level's caps covering the source, less the hold, then what the source has left (after
 * availableAfterHoldSql); ties to the earlier level. Needs v_tight bigint.
 */
export function headroomAfterHoldSql(level: string, nano: string): string {
  const caps = capLevels.map((l) => {
    const cap = caseOfSource('v_source', (s) => levelCapSql(l, s));
    return `v_tight := ${cap};
  IF v_tight IS NOT NULL AND (${nano} IS NULL OR v_tight - v_amount < ${nano}) THEN
    ${nano} := v_tight - v_amount; ${level} := '${l}';
  END IF;`;
  });
  const left = caseOfSource('v_source', (s) => variableOf('available', s));
  return `${level} := NULL; ${nano} := NULL;
  ${caps.join('\n  ')}
  v_tight := greatest(${left}, 0);
  IF ${nano} IS NULL OR v_tight < ${nano} THEN ${nano} := v_tight; ${level} := 'source'; END IF;`;
}

/** What each source has left after the hold of `v_amount` on `v_source`, into the `available_<source>` columns. */
export function availableAfterHoldSql(): string {
  return fundingSourceOrder
    .map((s) => {
      const held = `CASE WHEN v_source = '${s}' THEN v_amount ELSE 0 END`;
      return `${variableOf('available', s)} := ${variableOf('v', s)} - ${held};`;
    })
    .join('\n  ');
}

/** DECLARE lines for one bigint variable per source (or limit currency) with a prefix. */
export function declareSql(prefix: string, names: readonly (FundingSource | LimitCurrency)[]): string {
  return names.map((name) => `${variableOf(prefix, name)} bigint;`).join('\n  ');
}
