/**
 * The organization tree: each budget as a bar of what was spent and is held against it this period, edited in
 * place; spend per project; and a form to set a budget where there is none.
 */
import { type FormEvent, useState } from 'react';
import { ErrorNote } from '../../components/ui.tsx';
import { formatUsdNano, usdToNano } from '../../format.ts';
import { type BudgetView, type Currency, type Period, setBudget, type TreeView } from '../../teams.ts';

const money = (text: string | undefined) => (text === undefined ? '–' : formatUsdNano(usdToNano(text) ?? 0n));

/** Percent of the amount, capped at 100, from exact nano amounts. */
function percentOf(part: string | undefined, amount: string): number {
  const total = usdToNano(amount) ?? 0n;
  if (part === undefined || total === 0n) return 0;
  const share = Number(((usdToNano(part) ?? 0n) * 10_000n) / total) / 100;
  return Math.min(100, share);
}

function BudgetBar({ budget, bearer, onChanged }: { budget: BudgetView; bearer: string; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [amount, setAmount] = useState(budget.amount);
  const [error, setError] = useState<Error | null>(null);
  const spent = percentOf(budget.spent, budget.amount);
  const reserved = Math.min(100 - spent, percentOf(budget.reserved, budget.amount));
  const save = async (event: FormEvent, value: string | null) => {
    event.preventDefault();
    setError(null);
    try {
      await setBudget(bearer, {
        scopeId: budget.scopeId,
        currency: budget.currency,
        period: budget.period,
        amount: value,
      });
      setEditing(false);
      onChanged();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <div
      className="budget"
      data-testid="budget-row"
      data-scope-id={budget.scopeId}
      data-currency={budget.currency}
      data-period={budget.period}
    >
      <div className="budget-head">
        <span className="budget-key">
          {budget.currency} / {budget.period.toLowerCase()}
        </span>
        <span className="budget-figures">
          <span data-testid="budget-spent">{money(budget.spent)}</span> spent of{' '}
          <span data-testid="budget-amount">{money(budget.amount)}</span>,{' '}
          <span data-testid="budget-left">{money(budget.remaining)}</span> left
        </span>
        {!editing && (
          <button type="button" className="small ghost" onClick={() => setEditing(true)} data-testid="budget-edit">
            Edit
          </button>
        )}
      </div>
      <div className="budget-bar" title={`${Math.round(spent)}% spent`} data-testid="budget-bar">
        <div
          className={`budget-spent ${spent >= 100 ? 'full' : spent >= 80 ? 'high' : ''}`}
          style={{ width: `${spent}%` }}
        />
        <div className="budget-reserved" style={{ width: `${reserved}%` }} />
      </div>
      {editing && (
        <form className="row budget-form" onSubmit={(event) => void save(event, amount.trim())}>
          <input
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            aria-label="Budget in USD"
            data-testid="budget-edit-amount"
          />
          <button type="submit" className="small" data-testid="budget-save">
            Save
          </button>
          <button type="button" className="small danger" onClick={(event) => void save(event, null)}>
            Remove
          </button>
          <button type="button" className="small ghost" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      )}
      {error && <ErrorNote error={error} />}
    </div>
  );
}

function SetBudget({ tree, bearer, onChanged }: { tree: TreeView; bearer: string; onChanged: () => void }) {
  const scopes = [
    { id: tree.organization.id, label: `${tree.organization.name} (organization)` },
    ...tree.projects.map((project) => ({ id: project.id, label: project.name })),
  ];
  const [scopeId, setScopeId] = useState(scopes[0]!.id);
  const [currency, setCurrency] = useState<Currency>('USD');
  const [period, setPeriod] = useState<Period>('EPOCH');
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await setBudget(bearer, { scopeId, currency, period, amount: amount.trim() });
      setAmount('');
      onChanged();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form className="row set-budget" onSubmit={(event) => void submit(event)}>
      <select
        value={scopeId}
        onChange={(e) => setScopeId(e.target.value)}
        aria-label="Budget of"
        data-testid="set-budget-scope"
      >
        {scopes.map((scope) => (
          <option key={scope.id} value={scope.id}>
            {scope.label}
          </option>
        ))}
      </select>
      <select value={currency} onChange={(e) => setCurrency(e.target.value as Currency)} aria-label="Currency">
        <option value="USD">USD</option>
        <option value="DIEM">DIEM</option>
        <option value="TOTAL">total</option>
      </select>
      <select value={period} onChange={(e) => setPeriod(e.target.value as Period)} aria-label="Period">
        <option value="EPOCH">per epoch</option>
        <option value="MONTH">per month</option>
      </select>
      <input
        inputMode="decimal"
        placeholder="USD"
        value={amount}
        onChange={(e) => setAmount(e.target.value)}
        data-testid="set-budget-amount"
      />
      <button type="submit" className="small" disabled={amount.trim() === ''} data-testid="set-budget">
        Set budget
      </button>
      {error && <ErrorNote error={error} />}
    </form>
  );
}

export function BudgetTree({ tree, bearer, onChanged }: { tree: TreeView; bearer: string; onChanged: () => void }) {
  const epochSpend = (spend: TreeView['spend']) =>
    formatUsdNano((usdToNano(spend.epoch.DIEM) ?? 0n) + (usdToNano(spend.epoch.USD) ?? 0n));
  return (
    <div className="budget-tree" data-testid="budget-tree">
      <div className="tree-node" data-testid="tree-org">
        <h3>
          {tree.organization.name}{' '}
          <span className="muted small-text">organization · spent today {epochSpend(tree.spend)}</span>
        </h3>
        {tree.budgets.map((budget) => (
          <BudgetBar
            key={`${budget.currency}:${budget.period}`}
            budget={budget}
            bearer={bearer}
            onChanged={onChanged}
          />
        ))}
        {tree.budgets.length === 0 && <p className="muted small-text">No organization budget.</p>}
      </div>
      {tree.projects.map((project) => (
        <div className="tree-node project" key={project.id} data-testid="tree-project" data-project-id={project.id}>
          <h4>
            {project.name}{' '}
            <span className="muted small-text">
              {project.keyIds.length} key(s) · spent today {epochSpend(project.spend)}
            </span>
          </h4>
          {project.budgets.map((budget) => (
            <BudgetBar
              key={`${budget.currency}:${budget.period}`}
              budget={budget}
              bearer={bearer}
              onChanged={onChanged}
            />
          ))}
          {project.budgets.length === 0 && (
            <p className="muted small-text">No budget: bounded by the organization's.</p>
          )}
        </div>
      ))}
      <SetBudget tree={tree} bearer={bearer} onChanged={onChanged} />
    </div>
  );
}
