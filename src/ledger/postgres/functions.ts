/**
 * The ledger's PL/pgSQL functions, defined once here and installed at every open, after the migrations and under
 * their advisory lock (see `installPostgresFunctions`). Migrations hold schema changes only; a function changes here,
 * in place.
 *
 * The hot path is one round trip per operation: `perdiem_reserve`, `perdiem_settle` and `perdiem_finish_unpaid`
 * run the whole step in PL/pgSQL, and `perdiem_batch` runs many of them in one call and one transaction (group
 * commit). Errors are raised as `perdiem:<code>` and mapped to typed errors by dbErrors.ts.
 *
 * Locking: a reserve locks the account's CREDITS balance row first. That row is the account's mutex: every reserve
 * of one account (and so every idempotency check and key-limit check of its keys) is serialised behind it. Only
 * reserves lower a balance or raise a key's use, so the other rows they read cannot be made stale in the unsafe
 * direction. Lock order everywhere: reservation → account mutex → DIEM row → source row → key_spend rows →
 * budget_spend rows, and the counter rows are always taken last, which rules out deadlocks.
 *
 * Budgets: a key in a project belongs to the account that funds the project's organization (a reserve refuses it
 * otherwise), so the account mutex also serialises every reserve against the project's and the organization's
 * budgets, across all the organization's keys and every replica: the budget check and the hold are one atomic step.
 * Settles, voids and expiries only lower a counter's reservation, the safe direction.
 */
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { keyRefusalSql } from '../accounts/keyUsability.ts';
import { operatorLoss, operatorRevenue } from '../metering/meteringRules.ts';
import { replayRefusalSql } from '../metering/replayRule.ts';
import { fundingSourceOrder, limitCurrencies } from '../vocabulary.ts';
import {
  allCapVariables,
  availableAfterHoldSql,
  budgetCapsSelectSql,
  budgetPeriodKeysSql,
  budgetRowCount,
  budgetUsedSql,
  capPrefixes,
  capVariables,
  chooseSourceSql,
  declareSql,
  headroomAfterHoldSql,
  headroomsSql,
  ledgerAccountSql,
  limitCapsSelectSql,
  limitUsedSql,
  periodCount,
  periodKeysSql,
  quoteSql,
  spendCurrencySql,
  variableOf,
} from './ruleSql.ts';

type Sql = postgres.Sql<{ bigint: bigint }> | postgres.TransactionSql<{ bigint: bigint }>;

const reservationColumns = `id text, account_id text, key_id text, idempotency_key text, request_id text,
  request_hash text, owner text, model text, source perdiem_source, epoch bigint, month text, amount_nano perdiem_nano,
  status perdiem_reservation_status, charged_nano bigint, loss_nano bigint, created_at_ms bigint, expires_at_ms bigint,
  finished_at_ms bigint`;

/** The reservationColumns of a reservations row `r`, in order. */
const fieldsOf = (r: string) =>
  ['id', 'account_id', 'key_id', 'idempotency_key', 'request_id', 'request_hash', 'owner', 'model', 'source', 'epoch']
    .concat(['month', 'amount_nano', 'status', 'charged_nano', 'loss_nano', 'created_at_ms', 'expires_at_ms'])
    .concat(['finished_at_ms'])
    .map((column) => `${r}.${column}`)
    .join(', ');

/**
 * A reserve's extra columns: what each source has available after its hold (NULL for a replay), on the replay of
 * a settled reservation the answer stored with its settle, and the tightest level left after the hold.
 */
const reserveColumns = `${fundingSourceOrder.map((s) => `${variableOf('available', s)} bigint`).join(', ')}, response text,
  headroom_level text, headroom_nano bigint`;

/** The reserve columns of a settle or void in a batch: none. */
const noReserveColumns = `${fundingSourceOrder.map(() => 'NULL::bigint').join(', ')}, NULL::text, NULL::text,
  NULL::bigint`;

/**
 * Returns the hold of the reservation row `r` to its source and, when counted, to the key counters of its source's
 * class in its periods, moving `charged` of it to spent.
 */
const releaseHoldSql = (r: string, charged: string) => `IF ${r}.source = 'DIEM' THEN
    UPDATE diem_allowances SET reserved_nano = reserved_nano - ${r}.amount_nano, spent_nano = spent_nano + ${charged}
      WHERE account_id = ${r}.account_id AND epoch = ${r}.epoch;
  ELSE
    UPDATE balances SET reserved_nano = reserved_nano - ${r}.amount_nano,
        available_nano = available_nano + ${r}.amount_nano - ${charged}
      WHERE account_id = ${r}.account_id AND source = ${r}.source;
  END IF;
  IF ${r}.counted AND ${r}.key_id IS NOT NULL THEN
    UPDATE key_spend SET reserved_nano = reserved_nano - ${r}.amount_nano, spent_nano = spent_nano + ${charged}
      WHERE key_id = ${r}.key_id AND currency = ${spendCurrencySql(`${r}.source`)}
        AND period_key IN (${periodKeysSql(`${r}.epoch`, `${r}.month`)});
  END IF;
  IF ${r}.project_id IS NOT NULL THEN
    UPDATE budget_spend SET reserved_nano = reserved_nano - ${r}.amount_nano, spent_nano = spent_nano + ${charged}
      WHERE scope_id IN (${r}.project_id, ${r}.org_id) AND class = ${spendCurrencySql(`${r}.source`)}
        AND period_key IN (${budgetPeriodKeysSql(`${r}.epoch`, `${r}.month`)});
  END IF;`;

/** Every function defined here. Before a changed set is installed, all their overloads are dropped. */
export const postgresFunctionNames = [
  'perdiem_release_hold',
  'perdiem_reserve',
  'perdiem_settle',
  'perdiem_finish_unpaid',
  'perdiem_void_with_loss',
  'perdiem_batch',
] as const;

const revenue = quoteSql(operatorRevenue);

const capLevelsDeclareSql = Object.values(capPrefixes)
  .map((prefix) => declareSql(prefix, limitCurrencies))
  .join('\n  ');

/**
 * What each of the key's limits leaves (its caps), and whether it has any (then its spend is counted), `into` the
 * given variables or, without, as a subquery.
 */
const keyLimitsSql = (into = '') => `SELECT ${limitCapsSelectSql()},
      count(*) > 0
      ${into}
      FROM key_limits l LEFT JOIN LATERAL (${limitUsedSql('p_epoch', 'p_month')}) u ON true
      WHERE l.key_id = p_key`;

/** What the caps read of a budget. */
const budgetColumns = 'scope_id, scope, currency, period, amount_nano';

/**
 * A project key's limits, its organization (the one its account funds, else NULL and the key is refused), and what
 * the project's and the organization's budgets leave per currency: one statement, each lookup by key.
 */
const projectCapsSql = `SELECT kl.*, po.org_id, bc.*
        INTO ${capVariables.join(', ')}, v_counted, v_org,
          ${allCapVariables.filter((v) => !capVariables.includes(v)).join(', ')}
        FROM (${keyLimitsSql()}) kl
        LEFT JOIN LATERAL (SELECT p.org_id FROM projects p JOIN organizations o ON o.id = p.org_id
          WHERE p.id = v_key.project_id AND o.account_id = p_account) po ON true
        LEFT JOIN LATERAL (SELECT ${budgetCapsSelectSql()}
          FROM (SELECT ${budgetColumns} FROM budgets WHERE scope_id = v_key.project_id
              UNION ALL SELECT ${budgetColumns} FROM budgets WHERE scope_id = po.org_id) b
            LEFT JOIN LATERAL (${budgetUsedSql('p_epoch', 'p_month')}) u ON true) bc ON true;
      IF v_org IS NULL THEN RAISE EXCEPTION 'perdiem:invalid_api_key'; END IF;
      v_project := v_key.project_id;`;

/**
 * A project key's hold on its project's and organization's counters, in its source's class, in each budget period:
 * counted whether or not they have budgets, so a budget set later sees the period's spend.
 */
const holdBudgetSpendSql = `UPDATE budget_spend SET reserved_nano = reserved_nano + v_amount
      WHERE scope_id IN (v_project, v_org) AND class = ${spendCurrencySql('v_source')}
        AND period_key IN (${budgetPeriodKeysSql('p_epoch', 'p_month')});
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows < ${budgetRowCount} THEN
      INSERT INTO budget_spend (scope_id, class, period_key, spent_nano, reserved_nano)
        SELECT sc, ${spendCurrencySql('v_source')}, k, 0, v_amount FROM unnest(ARRAY[v_project, v_org]) sc,
            unnest(ARRAY[${budgetPeriodKeysSql('p_epoch', 'p_month')}]) k
          WHERE NOT EXISTS (SELECT 1 FROM budget_spend x
            WHERE x.scope_id = sc AND x.class = ${spendCurrencySql('v_source')} AND x.period_key = k);
    END IF;`;

/**
 * Key spend counters (key_spend) exist for keys with limits only (`reservations.counted`). A counted reservation
 * moves those of its source's class (DIEM or USD), each in every period; a TOTAL limit reads both classes, as a TOTAL
 * budget reads budget_spend. The rules in this text are generated from their TypeScript declarations (ruleSql.ts);
 * what stays written here is storage: rows, locks, and the arithmetic of a charge (see ruleSql.ts's header).
 */
export const postgresFunctionsSql = `
-- Returns a reservation's hold to its source and key counters, moving p_charged of it to spent.
CREATE OR REPLACE FUNCTION perdiem_release_hold(r reservations, p_charged bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  ${releaseHoldSql('r', 'p_charged')}
END $$;

-- Idempotency (Stripe's rule): a live or settled reservation under (account, idempotency key) is the same request
-- when it has the same key and, when both attempts carry a request digest, the same digest; it is then returned
-- (with its stored answer once settled) whatever the new bounds. Another key or digest: idempotency_key_mismatch.
-- Without digests, the model and the amount bounds must match (idempotency_key_reused).
CREATE OR REPLACE FUNCTION perdiem_reserve(
  p_id text, p_account text, p_key text, p_idem text, p_request_id text, p_request_hash text, p_owner text,
  p_model text, p_amount bigint, p_min bigint, p_now bigint, p_expires bigint, p_epoch bigint, p_month text
) RETURNS TABLE (replayed boolean, ${reservationColumns}, ${reserveColumns}) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_existing reservations%ROWTYPE;
  v_key api_keys%ROWTYPE;
  ${declareSql('v', fundingSourceOrder)}
  ${capLevelsDeclareSql}
  v_counted boolean := false;
  v_project text;
  v_org text;
  v_level text;
  v_tight bigint;
  ${declareSql('h', fundingSourceOrder)}
  v_source text;
  v_amount bigint;
  v_rows integer;
BEGIN
  -- The account mutex (see the header).
  SELECT b.available_nano INTO v_credits FROM balances b
    WHERE b.account_id = p_account AND b.source = 'CREDITS' FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'perdiem:account_not_found'; END IF;

  SELECT * INTO v_existing FROM reservations r
    WHERE r.account_id = p_account AND r.idempotency_key = p_idem AND r.status IN ('RESERVED', 'SETTLED');
  IF FOUND THEN
    ${replayRefusalSql('v_existing', {
      keyId: 'p_key',
      requestHash: 'p_request_hash',
      model: 'p_model',
      amountNano: 'p_amount',
      minAmountNano: 'p_min',
    })}
    RETURN QUERY SELECT true, ${fieldsOf('v_existing')}, ${fundingSourceOrder.map(() => 'NULL::bigint').join(', ')},
      CASE WHEN v_existing.status = 'SETTLED' THEN v_existing.response END, NULL::text, NULL::bigint;
    RETURN;
  END IF;

  IF p_key IS NOT NULL THEN
    SELECT * INTO v_key FROM api_keys k WHERE k.id = p_key;
    IF NOT FOUND OR v_key.account_id <> p_account THEN RAISE EXCEPTION 'perdiem:invalid_api_key'; END IF;
    ${keyRefusalSql('v_key', { now: 'p_now', model: 'p_model' })}
    -- What each limit leaves in its current period; the tightest per limit currency caps the sources it covers. A
    -- key with limits has its spend counted.
    IF v_key.project_id IS NULL THEN
      ${keyLimitsSql(`INTO ${capVariables.join(', ')}, v_counted`)};
    ELSE
      ${projectCapsSql}
    END IF;
  END IF;

  SELECT b.available_nano INTO v_usd FROM balances b WHERE b.account_id = p_account AND b.source = 'USD';
  SELECT greatest(d.allowance_nano - d.spent_nano - d.reserved_nano, 0) INTO v_diem FROM diem_allowances d
    WHERE d.account_id = p_account AND d.epoch = p_epoch FOR UPDATE;
  v_diem := coalesce(v_diem, 0);
  ${headroomsSql()}

  -- The spend order: the first source that covers the maximum; else (flexible) the most headroom above the minimum.
  ${chooseSourceSql('p_amount', 'p_min')}

  IF v_source = 'DIEM' THEN
    UPDATE diem_allowances SET reserved_nano = reserved_nano + v_amount
      WHERE account_id = p_account AND epoch = p_epoch;
  ELSE
    UPDATE balances SET available_nano = available_nano - v_amount, reserved_nano = reserved_nano + v_amount
      WHERE account_id = p_account AND source = v_source;
  END IF;
  IF v_counted THEN
    -- Counters usually exist (an UPDATE is cheaper than an upsert); a new period or key creates them.
    UPDATE key_spend SET reserved_nano = reserved_nano + v_amount
      WHERE key_id = p_key AND currency = ${spendCurrencySql('v_source')}
        AND period_key IN (${periodKeysSql('p_epoch', 'p_month')});
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows < ${periodCount} THEN
      INSERT INTO key_spend AS s (key_id, currency, period_key, spent_nano, reserved_nano)
        SELECT p_key, ${spendCurrencySql('v_source')}, k, 0, v_amount
          FROM unnest(ARRAY[${periodKeysSql('p_epoch', 'p_month')}]) k
          WHERE NOT EXISTS (SELECT 1 FROM key_spend x
            WHERE x.key_id = p_key AND x.currency = ${spendCurrencySql('v_source')} AND x.period_key = k);
    END IF;
  END IF;
  IF v_project IS NOT NULL THEN
    ${holdBudgetSpendSql}
  END IF;
  INSERT INTO reservations (id, account_id, key_id, idempotency_key, request_id, request_hash, owner, model, source,
      epoch, month, amount_nano, status, created_at_ms, expires_at_ms, counted, project_id, org_id)
    VALUES (p_id, p_account, p_key, p_idem, p_request_id, p_request_hash, p_owner, p_model, v_source, p_epoch, p_month,
      v_amount, 'RESERVED', p_now, p_expires, v_counted, v_project, v_org);
  replayed := false; id := p_id; account_id := p_account; key_id := p_key; idempotency_key := p_idem;
  request_id := p_request_id; request_hash := p_request_hash; owner := p_owner; model := p_model;
  source := v_source; epoch := p_epoch; month := p_month; amount_nano := v_amount; status := 'RESERVED';
  charged_nano := NULL; loss_nano := NULL; created_at_ms := p_now; expires_at_ms := p_expires; finished_at_ms := NULL;
  ${availableAfterHoldSql()}
  response := NULL;
  ${headroomAfterHoldSql('headroom_level', 'headroom_nano')}
  RETURN NEXT;
END $$;

-- Settles a reservation, keeping p_response (the answer replays return) in the same transaction as the charge.
CREATE OR REPLACE FUNCTION perdiem_settle(
  p_id text, p_now bigint, p_skus text[], p_units bigint[], p_prices bigint[], p_price_units bigint[],
  p_amounts bigint[], p_latency integer, p_response text, p_price_sheet text
) RETURNS TABLE (replayed boolean, ${reservationColumns}) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r reservations%ROWTYPE;
  v_actual bigint := 0;
  v_line bigint;
  v_charged bigint;
  v_loss bigint;
  v_payer text;
BEGIN
  SELECT * INTO r FROM reservations x WHERE x.id = p_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'perdiem:reservation_not_found'; END IF;
  FOREACH v_line IN ARRAY p_amounts LOOP v_actual := v_actual + v_line; END LOOP;
  IF r.status = 'SETTLED' THEN
    IF r.charged_nano + r.loss_nano <> v_actual THEN RAISE EXCEPTION 'perdiem:already_settled'; END IF;
    RETURN QUERY SELECT true, ${fieldsOf('r')};
    RETURN;
  END IF;
  IF r.status <> 'RESERVED' THEN RAISE EXCEPTION 'perdiem:reservation_not_active'; END IF;
  v_charged := least(v_actual, r.amount_nano);
  v_loss := v_actual - v_charged;
  -- Release the hold (as perdiem_release_hold, inlined on the hot path: the same generated text).
  ${releaseHoldSql('r', 'v_charged')}
  v_payer := ${ledgerAccountSql('r.account_id', 'r.source', 'r.epoch')};
  UPDATE reservations SET status = 'SETTLED', charged_nano = v_charged, loss_nano = v_loss, finished_at_ms = p_now,
      response = p_response, price_sheet_hash = p_price_sheet
    WHERE id = p_id;
  -- The charge is spread over the lines in order, so that usage rows sum to exactly what was charged.
  INSERT INTO usage_records (reservation_id, request_id, account_id, key_id, model, sku, units, unit_price_nano,
      price_unit, list_amount_nano, amount_nano, currency, source, latency_ms, epoch, created_at_ms)
    SELECT r.id, coalesce(r.request_id, r.idempotency_key), r.account_id, r.key_id, r.model, t.sku, t.units, t.price,
        t.price_unit, t.amount, least(t.amount, greatest(v_charged - (sum(t.amount) OVER (ORDER BY t.ord) - t.amount), 0)),
        ${spendCurrencySql('r.source')}, r.source, p_latency, r.epoch, p_now
      FROM unnest(p_skus, p_units, p_prices, p_price_units, p_amounts) WITH ORDINALITY
        AS t (sku, units, price, price_unit, amount, ord)
      ORDER BY t.ord;
  INSERT INTO journal_entries (txn_id, kind, ledger_account, side, amount_nano, reservation_id, created_at_ms)
    SELECT 'settle:' || r.id, e.kind, e.account, e.side, e.amount, r.id, p_now
      FROM (VALUES ('CHARGE', v_payer, 'DEBIT', v_charged, 1), ('CHARGE', ${revenue}, 'CREDIT', v_charged, 2),
          ('LOSS', ${quoteSql(operatorLoss)}, 'DEBIT', v_loss, 3), ('LOSS', ${revenue}, 'CREDIT', v_loss, 4))
        AS e (kind, account, side, amount, ord)
      WHERE e.amount > 0 ORDER BY e.ord;
  r.status := 'SETTLED'; r.charged_nano := v_charged; r.loss_nano := v_loss; r.finished_at_ms := p_now;
  RETURN QUERY SELECT false, ${fieldsOf('r')};
END $$;

-- Void (p_status VOIDED) or expire (EXPIRED) a reservation. 'changed' is false when there was nothing to do.
CREATE OR REPLACE FUNCTION perdiem_finish_unpaid(p_id text, p_now bigint, p_status text)
RETURNS TABLE (changed boolean, ${reservationColumns}) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r reservations%ROWTYPE;
BEGIN
  SELECT * INTO r FROM reservations x WHERE x.id = p_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'perdiem:reservation_not_found'; END IF;
  IF r.status = 'SETTLED' AND p_status = 'VOIDED' THEN RAISE EXCEPTION 'perdiem:already_settled'; END IF;
  IF r.status <> 'RESERVED' OR (p_status = 'EXPIRED' AND r.expires_at_ms > p_now) THEN
    RETURN QUERY SELECT false, ${fieldsOf('r')};
    RETURN;
  END IF;
  PERFORM perdiem_release_hold(r, 0);
  UPDATE reservations SET status = p_status, finished_at_ms = p_now WHERE id = p_id;
  r.status := p_status; r.finished_at_ms := p_now;
  RETURN QUERY SELECT true, ${fieldsOf('r')};
END $$;

-- Voids a reservation and records the operator's loss in the same transaction: the lines at list price, charged 0,
-- their sum as the reservation's loss and as a LOSS pair. A reservation already voided or expired is returned as it
-- is (changed false, nothing recorded again); a settled one conflicts, as a plain void does.
CREATE OR REPLACE FUNCTION perdiem_void_with_loss(
  p_id text, p_now bigint, p_skus text[], p_units bigint[], p_prices bigint[], p_price_units bigint[],
  p_amounts bigint[], p_latency integer
) RETURNS TABLE (changed boolean, ${reservationColumns}) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r reservations%ROWTYPE;
  v_loss bigint := 0;
  v_line bigint;
BEGIN
  SELECT * INTO r FROM reservations x WHERE x.id = p_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'perdiem:reservation_not_found'; END IF;
  IF r.status = 'SETTLED' THEN RAISE EXCEPTION 'perdiem:already_settled'; END IF;
  IF r.status <> 'RESERVED' THEN
    RETURN QUERY SELECT false, ${fieldsOf('r')};
    RETURN;
  END IF;
  FOREACH v_line IN ARRAY coalesce(p_amounts, ARRAY[]::bigint[]) LOOP v_loss := v_loss + v_line; END LOOP;
  PERFORM perdiem_release_hold(r, 0);
  UPDATE reservations SET status = 'VOIDED', finished_at_ms = p_now, charged_nano = 0, loss_nano = v_loss
    WHERE id = p_id;
  INSERT INTO usage_records (reservation_id, request_id, account_id, key_id, model, sku, units, unit_price_nano,
      price_unit, list_amount_nano, amount_nano, currency, source, latency_ms, epoch, created_at_ms)
    SELECT r.id, coalesce(r.request_id, r.idempotency_key), r.account_id, r.key_id, r.model, t.sku, t.units, t.price,
        t.price_unit, t.amount, 0, ${spendCurrencySql('r.source')}, r.source, p_latency, r.epoch, p_now
      FROM unnest(p_skus, p_units, p_prices, p_price_units, p_amounts) WITH ORDINALITY
        AS t (sku, units, price, price_unit, amount, ord)
      ORDER BY t.ord;
  INSERT INTO journal_entries (txn_id, kind, ledger_account, side, amount_nano, reservation_id, created_at_ms)
    SELECT 'void:' || r.id, 'LOSS', e.account, e.side, v_loss, r.id, p_now
      FROM (VALUES (${quoteSql(operatorLoss)}, 'DEBIT', 1), (${revenue}, 'CREDIT', 2)) AS e (account, side, ord)
      WHERE v_loss > 0 ORDER BY e.ord;
  r.status := 'VOIDED'; r.finished_at_ms := p_now; r.charged_nano := 0; r.loss_nano := v_loss;
  RETURN QUERY SELECT true, ${fieldsOf('r')};
END $$;

-- Group commit for concurrent requests: many reserves, settles and voids in one call and one transaction. Each runs
-- exactly as a lone perdiem_reserve, perdiem_settle or perdiem_finish_unpaid would, in the order the adapter received
-- them within each account; any error aborts the batch and the adapter replays its operations one by one.
-- Deadlock freedom: the batch first locks the reservations it settles or voids, in id order, then takes its accounts
-- in ascending order, so that two batches never wait on each other in a cycle.
-- p_kinds: 'R' reserve (p_ids holds the new reservation's id), 'S' settle, 'V' void, 'L' void with operator loss
-- (p_ids holds the reservation). The usage lines of every settle and loss are concatenated; p_line_counts says how
-- many belong to each operation.
-- Settles and voids return NULL reserve columns.
CREATE OR REPLACE FUNCTION perdiem_batch(
  p_kinds text[], p_ids text[], p_accounts text[], p_keys text[], p_idems text[], p_request_ids text[],
  p_request_hashes text[], p_owner text, p_models text[], p_amounts bigint[], p_mins bigint[], p_nows bigint[],
  p_expires bigint[], p_epochs bigint[], p_months text[], p_line_counts integer[], p_skus text[], p_units bigint[],
  p_prices bigint[], p_price_units bigint[], p_line_amounts bigint[], p_latencies integer[], p_responses text[],
  p_price_sheets text[]
) RETURNS TABLE (ord integer, replayed boolean, ${reservationColumns}, ${reserveColumns}) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  i integer;
  f integer;
  t integer;
  v_first integer[];
BEGIN
  -- Each lookup is by primary key (a join here may be planned as a scan of the whole table).
  PERFORM 1 FROM (SELECT DISTINCT k.rid FROM unnest(p_kinds, p_ids) AS k (kind, rid) WHERE k.kind <> 'R'
      ORDER BY k.rid) k,
    LATERAL (SELECT 1 FROM reservations x WHERE x.id = k.rid FOR UPDATE) locked;
  -- Where each operation's usage lines start.
  SELECT array_agg((coalesce(s.before, 0) + 1)::integer ORDER BY s.o) INTO v_first
    FROM (SELECT n.o, sum(n.n) OVER (ORDER BY n.o ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
      FROM unnest(p_line_counts) WITH ORDINALITY AS n (n, o)) s;
  FOR i IN SELECT o.o FROM unnest(p_kinds, p_ids, p_accounts) WITH ORDINALITY AS o (kind, rid, account, o)
      ORDER BY CASE WHEN o.kind = 'R' THEN o.account
          ELSE (SELECT x.account_id FROM reservations x WHERE x.id = o.rid) END, o.o LOOP
    IF p_kinds[i] = 'R' THEN
      RETURN QUERY SELECT i, r.* FROM perdiem_reserve(p_ids[i], p_accounts[i], p_keys[i], p_idems[i], p_request_ids[i],
        p_request_hashes[i], p_owner, p_models[i], p_amounts[i], p_mins[i], p_nows[i], p_expires[i], p_epochs[i],
        p_months[i]) r;
    ELSIF p_kinds[i] = 'S' THEN
      f := v_first[i];
      t := v_first[i] + p_line_counts[i] - 1;
      RETURN QUERY SELECT i, r.*, ${noReserveColumns} FROM perdiem_settle(p_ids[i],
        p_nows[i], p_skus[f:t], p_units[f:t], p_prices[f:t], p_price_units[f:t], p_line_amounts[f:t], p_latencies[i],
        p_responses[i], p_price_sheets[i]) r;
    ELSIF p_kinds[i] = 'L' THEN
      f := v_first[i];
      t := v_first[i] + p_line_counts[i] - 1;
      RETURN QUERY SELECT i, r.*, ${noReserveColumns} FROM perdiem_void_with_loss(p_ids[i], p_nows[i],
        p_skus[f:t], p_units[f:t], p_prices[f:t], p_price_units[f:t], p_line_amounts[f:t], p_latencies[i]) r;
    ELSE
      RETURN QUERY SELECT i, r.*, ${noReserveColumns}
        FROM perdiem_finish_unpaid(p_ids[i], p_nows[i], 'VOIDED') r;
    END IF;
  END LOOP;
END $$;
`;

const functionsDigest = createHash('sha256').update(postgresFunctionsSql).digest('hex');

/**
 * Installs the functions unless the schema already holds exactly these (`schema_functions` keeps the digest of the
 * installed text), so that an open of an up-to-date schema rewrites nothing that running replicas execute. When
 * they differ, every overload of each name is dropped first: a function whose arguments or result changed cannot be
 * replaced in place, and no stale overload is left behind. Run inside the migration transaction, after the
 * migrations, under their advisory lock. Returns whether it installed.
 */
export async function installPostgresFunctions(tx: Sql): Promise<boolean> {
  await tx`CREATE TABLE IF NOT EXISTS schema_functions (name text PRIMARY KEY, digest text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now())`;
  const [installed] = await tx`SELECT digest FROM schema_functions WHERE name = 'ledger'`;
  if (installed?.digest === functionsDigest) return false;
  const overloads = await tx`SELECT p.oid::regprocedure::text AS signature FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace AND p.proname = ANY (${[...postgresFunctionNames]}::text[])`;
  for (const { signature } of overloads) await tx.unsafe(`DROP FUNCTION ${signature}`);
  await tx.unsafe(postgresFunctionsSql);
  await tx`INSERT INTO schema_functions (name, digest) VALUES ('ledger', ${functionsDigest})
    ON CONFLICT (name) DO UPDATE SET digest = excluded.digest, installed_at = now()`;
  return true;
}
