/**
 * `perdiem budget set|remove|move`: budgets of projects and organizations per currency and period, in USD, and
 * moving unused budget between projects. Changes need an ADMIN key, by default the one of `perdiem up`.
 */
import { parseUsdOption } from './amounts.ts';
import { type Command, UsageError } from './command.ts';
import { stringOption, type Values } from './context.ts';
import { type Gateway, gatewayOptions, gatewayUsage, openGateway } from './gatewayClient.ts';
import { jsonText } from './output.ts';
import { type BudgetView, budgetTable, resolveScope, type Scope } from './teamViews.ts';

const currencies = ['DIEM', 'USD', 'TOTAL'];
const periods = ['EPOCH', 'MONTH'];

const data = <T>(answer: { body: unknown }) => (answer.body as { data: T }).data;

/** --currency and --period, both required: a budget is named by its scope, currency and period. */
export function budgetKey(values: Values): { currency: string; period: string } {
  const currency = stringOption(values, 'currency')?.toUpperCase();
  const period = stringOption(values, 'period')?.toUpperCase();
  if (currency === undefined || !currencies.includes(currency)) {
    throw new UsageError('--currency must be DIEM, USD or TOTAL');
  }
  if (period === undefined || !periods.includes(period)) throw new UsageError('--period must be epoch or month');
  return { currency, period };
}

/** "50,80,100" → [50, 80, 100]: whole percentages. */
export function parseAlerts(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => !/^[1-9]\d{0,3}$/.test(part))) {
    throw new UsageError(`--alerts must be whole percentages, comma-separated, like 50,80,100: ${text}`);
  }
  return parts.map(Number);
}

const scopeLevel = (scope: Scope) => (scope.scope === 'PROJECT' ? 'project' : 'organization');

async function set(admin: Gateway, target: string, amount: string | null, values: Values) {
  const key = budgetKey(values);
  const alertThresholds = parseAlerts(stringOption(values, 'alerts'));
  const scope = await resolveScope(admin, target);
  const body = { scopeId: scope.id, ...key, amount, ...(alertThresholds ? { alertThresholds } : {}) };
  const budget = data<BudgetView | null>(await admin.request('PUT', '/api/v1/budgets', { body }));
  return { level: scopeLevel(scope), name: target, scopeId: scope.id, ...key, budget };
}

async function move(admin: Gateway, from: string, to: string, amount: string, values: Values) {
  const key = budgetKey(values);
  const source = await resolveScope(admin, from);
  const target = await resolveScope(admin, to);
  if (source.scope !== 'PROJECT' || target.scope !== 'PROJECT') {
    throw new UsageError('budget move moves budget between two projects');
  }
  const body = { fromProjectId: source.id, toProjectId: target.id, ...key, amount };
  const path = `/api/v1/orgs/${encodeURIComponent(source.orgId)}/reallocations`;
  return data<{ from: BudgetView; to: BudgetView }>(await admin.request('POST', path, { body }));
}

export const budgetCommand: Command = {
  summary: 'set, remove or move the budgets of projects and organizations',
  usage: [
    'usage: perdiem budget set PROJECT|ORG AMOUNT --currency DIEM|USD|TOTAL --period epoch|month [--alerts 50,80,100]',
    '       perdiem budget remove PROJECT|ORG --currency C --period P',
    '       perdiem budget move FROM-PROJECT TO-PROJECT AMOUNT --currency C --period P',
    '',
    'AMOUNT is USD. DIEM covers the DIEM allowance, USD covers credits and USD, TOTAL every source. epoch is the UTC',
    "day of the allowance, month the UTC calendar month. Every request of a project's keys must fit the project's",
    "budgets and the organization's. move takes at most what FROM has left this period, and the change is in the",
    'audit log (`perdiem org audit`). Changes need an ADMIN key: by default the ADMIN key of `perdiem up`.',
    '',
    '  --currency C        DIEM, USD or TOTAL',
    '  --period P          epoch or month',
    '  --alerts LIST       alert thresholds in percent (default 50,80,100), each raised once per period',
    gatewayUsage,
  ].join('\n'),
  options: { ...gatewayOptions, currency: { type: 'string' }, period: { type: 'string' }, alerts: { type: 'string' } },
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    const json = values.json === true;
    const admin = () => openGateway(values, io, 'admin-key');
    if ((action === 'set' && rest.length === 2) || (action === 'remove' && rest.length === 1)) {
      const amount = action === 'set' ? parseUsdOption(rest[1]!, 'AMOUNT') : null;
      const result = await set(admin(), rest[0]!, amount, values);
      if (json) io.out(jsonText(result));
      else if (result.budget === null) io.out(`removed the ${result.currency}/${result.period} budget of ${rest[0]}`);
      else io.out(budgetTable([{ level: result.level, name: rest[0]!, budget: result.budget }]));
    } else if (action === 'move' && rest.length === 3) {
      const amount = parseUsdOption(rest[2]!, 'AMOUNT');
      const moved = await move(admin(), rest[0]!, rest[1]!, amount, values);
      io.out(
        json
          ? jsonText(moved)
          : budgetTable([
              { level: 'from', name: rest[0]!, budget: moved.from },
              { level: 'to', name: rest[1]!, budget: moved.to },
            ]),
      );
    } else {
      throw new UsageError(
        action === undefined ? 'missing set, remove or move' : `bad arguments: ${positionals.join(' ')}`,
      );
    }
    return 0;
  },
};
