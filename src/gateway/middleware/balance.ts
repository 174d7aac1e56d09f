/**
 * The x-balance-* headers: what the account had available before this request, on every authenticated answer.
 * A metered request takes them from its reservation (what the ledger reports available after the hold, plus the
 * hold), with no balance read of its own; any other answer reads the balance once, through `balanceOf`, which the
 * auth middleware calls after the handler when the handler did not.
 */
import type { Context } from 'hono';
import { formatUsd, type NanoUsd } from '../../core/money.ts';
import type { Balance, FundingSource, Reservation, ReserveResult } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';

type Available = Record<FundingSource, NanoUsd>;

function setBalanceHeaders(headers: Record<string, string>, available: Available): void {
  headers['x-balance-diem'] = formatUsd(available.DIEM);
  headers['x-balance-usd'] = formatUsd(available.USD);
  headers['x-balance-credits'] = formatUsd(available.CREDITS);
}

function availableOf(balance: Balance): Available {
  return {
    DIEM: balance.diem.availableNano,
    CREDITS: balance.credits.availableNano,
    USD: balance.usd.availableNano,
  };
}

export function hasBalanceHeaders(c: Context<GatewayEnv>): boolean {
  return c.get('headers')['x-balance-diem'] !== undefined;
}

/** Keeps a balance read for this request and sets its headers. */
export function noteBalance(c: Context<GatewayEnv>, balance: Balance): void {
  c.set('balance', balance);
  setBalanceHeaders(c.get('headers'), availableOf(balance));
}

/** The principal's balance, read from the ledger at most once per request. */
export async function balanceOf(deps: GatewayDeps, c: Context<GatewayEnv>): Promise<Balance> {
  const known = c.get('balance');
  if (known !== undefined) return known;
  const balance = await deps.ledger.balance(c.get('principal').accountId);
  noteBalance(c, balance);
  return balance;
}

/**
 * After a reservation: the balance before it. `availableAfterHold` is what the ledger reported with the reservation;
 * an adapter that does not report it costs one balance read here. The hold's source cannot have been clamped at zero
 * (the hold fitted in it), so adding the hold back is exact.
 */
export async function noteBalanceBeforeHold(
  deps: GatewayDeps,
  c: Context<GatewayEnv>,
  reservation: Reservation,
  availableAfterHold: Available | undefined,
): Promise<void> {
  const after = availableAfterHold ?? availableOf(await deps.ledger.balance(reservation.accountId));
  setBalanceHeaders(c.get('headers'), {
    ...after,
    [reservation.source]: after[reservation.source] + reservation.amountNano,
  });
}

/**
 * After a reservation: the tightest remaining budget over every level the request had to fit (the key's limits, its
 * project's and organization's budgets, the source that paid), in USD, and the level it belongs to.
 */
export function noteHeadroom(c: Context<GatewayEnv>, headroom: ReserveResult['headroom']): void {
  if (headroom === undefined) return;
  const headers = c.get('headers');
  headers['x-perdiem-budget-remaining'] = formatUsd(headroom.remainingNano);
  headers['x-perdiem-budget-level'] = headroom.level;
}
