/** The account's billing routes, in Venice's shape: balance, usage history (JSON or CSV), usage analytics. */
import { Hono } from 'hono';
import { dayMs } from '../../core/epoch.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { formatUsd, nanoUsdToNumber } from '../../core/money.ts';
import type { AnalyticsRow, UsageRecord } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { gatewayLimits } from '../limits.ts';
import { balanceOf } from '../middleware/balance.ts';
import { intParam, isoTimeParam } from './query.ts';

function usageItem(record: UsageRecord) {
  return {
    id: record.id,
    requestId: record.requestId,
    timestamp: new Date(record.createdAtMs).toISOString(),
    keyId: record.keyId,
    model: record.model,
    sku: record.sku,
    units: record.units,
    pricePerUnitUsd: formatUsd(record.unitPriceNano),
    priceUnit: record.priceUnit,
    amount: formatUsd(record.amountNano),
    listAmount: formatUsd(record.listAmountNano),
    currency: record.currency,
    source: record.source,
    latencyMs: record.latencyMs,
    epoch: record.epoch,
  };
}

const csvColumns = [
  'id',
  'requestId',
  'timestamp',
  'keyId',
  'model',
  'sku',
  'units',
  'pricePerUnitUsd',
  'priceUnit',
  'amount',
  'listAmount',
  'currency',
  'source',
  'latencyMs',
  'epoch',
] as const;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(items: ReturnType<typeof usageItem>[]): string {
  const rows = items.map((item) => csvColumns.map((column) => csvCell(item[column])).join(','));
  return `${[csvColumns.join(','), ...rows].join('\n')}\n`;
}

function analyticsRow(row: AnalyticsRow) {
  return {
    group: row.group,
    currency: row.currency,
    amount: formatUsd(row.amountNano),
    operatorLoss: formatUsd(row.lossNano),
    requests: row.requests,
    units: row.units,
  };
}

export function billingRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  app.get('/billing/balance', async (c) => {
    const { key, accountId } = c.get('principal');
    const balance = await balanceOf(deps, c);
    const spendable = await deps.ledger.spendable({ accountId, keyId: key.id });
    return c.json({
      canConsume: spendable.maxNano > 0n,
      consumptionCurrency: spendable.source === null ? null : spendable.source === 'DIEM' ? 'DIEM' : 'USD',
      consumptionSource: spendable.source,
      balances: {
        diem: nanoUsdToNumber(balance.diem.availableNano),
        usd: nanoUsdToNumber(balance.usd.availableNano),
        credits: nanoUsdToNumber(balance.credits.availableNano),
      },
      diemEpochAllocation: nanoUsdToNumber(balance.diem.allowanceNano),
      epoch: balance.epoch,
      nextEpochBegins: balance.nextEpochBegins,
    });
  });

  app.get('/billing/usage-history', async (c) => {
    const { accountId } = c.get('principal');
    const q = c.req.query();
    const page = await deps.ledger.usageHistory({
      accountId,
      ...(q.keyId ? { keyId: q.keyId } : {}),
      ...(q.model ? { model: q.model } : {}),
      fromMs: isoTimeParam(q.startDate, 'startDate'),
      toMs: isoTimeParam(q.endDate, 'endDate'),
      limit: intParam(q.limit, 'limit', 1, gatewayLimits.usageHistoryPageSizeMax),
      cursor: q.cursor || null,
    });
    const items = page.items.map(usageItem);
    if ((c.req.header('accept') ?? '').includes('text/csv') || q.format === 'csv') {
      if (page.nextCursor !== null) c.header('x-next-cursor', page.nextCursor);
      return c.body(toCsv(items), 200, { 'content-type': 'text/csv; charset=utf-8' });
    }
    return c.json({ data: items, nextCursor: page.nextCursor });
  });

  app.get('/billing/usage-analytics', async (c) =>
    c.json(await usageAnalyticsView(deps, c.get('principal').accountId, c.req.query())),
  );
  return app;
}

/**
 * Spend by day, model and key over [startDate, endDate) (default: the last 30 days), for one account or — with
 * `accountId` null, on the operator's route — the whole fleet.
 */
export async function usageAnalyticsView(deps: GatewayDeps, accountId: string | null, q: Record<string, string>) {
  const toMs = isoTimeParam(q.endDate, 'endDate') ?? deps.clock() + 1;
  const fromMs = isoTimeParam(q.startDate, 'startDate') ?? toMs - 30 * dayMs;
  if (fromMs >= toMs) {
    throw new InvalidRequestError('startDate must be before endDate', { code: 'invalid_value', param: 'startDate' });
  }
  const analytics = await deps.ledger.usageAnalytics({
    accountId,
    fromMs,
    toMs,
    ...(q.keyId ? { keyId: q.keyId } : {}),
  });
  return {
    startDate: new Date(fromMs).toISOString(),
    endDate: new Date(toMs).toISOString(),
    byDay: analytics.byDay.map(analyticsRow),
    byModel: analytics.byModel.map(analyticsRow),
    byKey: analytics.byKey.map(analyticsRow),
  };
}
