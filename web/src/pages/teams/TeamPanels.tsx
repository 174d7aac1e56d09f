/** The Teams page's side panels: move budget between projects, the alert list, and the treasury's wallets on chain. */
import { type FormEvent, useState } from 'react';
import type { PublicClient } from 'viem';
import { Async, Empty, ErrorNote } from '../../components/ui.tsx';
import type { Contracts } from '../../config.ts';
import { formatTime, formatToken, formatUsdNano, shortAddress, usdToNano } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import {
  type AlertView,
  orgWallets,
  readWalletAllowances,
  reallocate,
  type TreeView,
  type WalletAllowance,
} from '../../teams.ts';

const money = (text: string) => formatUsdNano(usdToNano(text) ?? 0n);

/** Moves unused budget from one project's budget to another project (same currency and period). */
export function Reallocate({ tree, bearer, onMoved }: { tree: TreeView; bearer: string; onMoved: () => void }) {
  const sources = tree.projects.flatMap((project) =>
    project.budgets.map((budget) => ({ project, budget, key: `${project.id}|${budget.currency}|${budget.period}` })),
  );
  const [from, setFrom] = useState(sources[0]?.key ?? '');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  if (sources.length === 0 || tree.projects.length < 2) {
    return <Empty>Reallocation moves budget between two projects: give one of them a budget first.</Empty>;
  }
  const source = sources.find((s) => s.key === from) ?? sources[0]!;
  const targets = tree.projects.filter((project) => project.id !== source.project.id);
  const target = targets.find((project) => project.id === to) ?? targets[0]!;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    try {
      const { currency, period } = source.budget;
      await reallocate(bearer, tree.organization.id, {
        fromProjectId: source.project.id,
        toProjectId: target.id,
        currency,
        period,
        amount: amount.trim(),
      });
      setDone(`Moved ${money(amount.trim())} from ${source.project.name} to ${target.name}.`);
      setAmount('');
      onMoved();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form className="realloc-form" onSubmit={(event) => void submit(event)}>
      <label>
        <span className="field-label">From</span>
        <select value={source.key} onChange={(e) => setFrom(e.target.value)} data-testid="realloc-from">
          {sources.map((s) => (
            <option key={s.key} value={s.key}>
              {s.project.name} — {s.budget.currency}/{s.budget.period.toLowerCase()} ({money(s.budget.remaining ?? '0')}{' '}
              left)
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="field-label">To</span>
        <select value={target.id} onChange={(e) => setTo(e.target.value)} data-testid="realloc-to">
          {targets.map((project) => (
            <option key={project.id} value={project.id}>
              {project.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="field-label">Amount (USD)</span>
        <input
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          data-testid="realloc-amount"
        />
      </label>
      <button type="submit" disabled={amount.trim() === ''} data-testid="realloc-submit">
        Move budget
      </button>
      {done && (
        <p className="ok-text" data-testid="realloc-done">
          {done}
        </p>
      )}
      {error && <ErrorNote error={error} />}
    </form>
  );
}

export function AlertList({ alerts, tree }: { alerts: AlertView[]; tree: TreeView }) {
  if (alerts.length === 0) return <Empty>No alert raised this period. Alerts fire at each budget's thresholds.</Empty>;
  const names = new Map([
    [tree.organization.id, tree.organization.name],
    ...tree.projects.map((p) => [p.id, p.name] as const),
  ]);
  return (
    <div className="table-wrap">
      <table data-testid="alert-table">
        <thead>
          <tr>
            <th>Raised</th>
            <th>Budget</th>
            <th>Reached</th>
            <th>Deliveries</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id} data-testid="alert-row">
              <td data-label="Raised">{formatTime(alert.createdAt)}</td>
              <td data-label="Budget">
                {names.get(alert.scopeId) ?? alert.scopeId} {alert.currency}/{alert.period.toLowerCase()}
              </td>
              <td data-label="Reached">
                {alert.thresholdPercent}% ({money(alert.spent)} of {money(alert.amount)})
              </td>
              <td data-label="Deliveries">
                {alert.deliveries.length === 0 && <span className="muted">no webhook</span>}
                {alert.deliveries.map((d) => (
                  <span
                    key={d.webhookId}
                    className={`badge ${d.state === 'delivered' ? 'ok' : d.state === 'failed' ? 'danger' : 'warn'}`}
                    title={d.lastError ?? undefined}
                    data-testid="alert-delivery"
                  >
                    {d.state} · {d.attempts} attempt(s)
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The wallets linked to the organization's funding account, and the DIEM allowance each has on chain. */
export function TreasuryWallets(props: { bearer: string; orgId: string; client: PublicClient; contracts: Contracts }) {
  const { bearer, orgId, client, contracts } = props;
  const wallets = useAsync(
    async () => readWalletAllowances(client, contracts, await orgWallets(bearer, orgId)),
    [bearer, orgId, client, contracts],
    15_000,
  );
  return (
    <Async state={wallets} what="the treasury wallets">
      {(list) =>
        list.length === 0 ? (
          <Empty>
            No wallet is linked to this organization's account yet: link the treasury wallet with a key of the
            organization (`perdiem wallets link`), and its staked DIEM funds every project.
          </Empty>
        ) : (
          <WalletTable wallets={list} />
        )
      }
    </Async>
  );
}

/** A wallet's allocations: out to members (this epoch → next), and in from treasuries. */
function AllocationCell({ wallet }: { wallet: WalletAllowance }) {
  const allocations = wallet.allocations;
  if (allocations === null) return <span className="muted">this deployment has no allocation views</span>;
  return (
    <div data-testid="wallet-allocations">
      <div>
        out ${formatToken(allocations.outWei)} · in ${formatToken(allocations.inWei)}
      </div>
      {allocations.members.map((member) => (
        <div key={member.address} className="small-text">
          → <span title={member.address}>{shortAddress(member.address)}</span> ${formatToken(member.currentWei)} now, $
          {formatToken(member.nextWei)} next epoch
        </div>
      ))}
    </div>
  );
}

function WalletTable({ wallets }: { wallets: WalletAllowance[] }) {
  return (
    <table data-testid="treasury-wallets">
      <thead>
        <tr>
          <th>Wallet</th>
          <th>Allowance this epoch</th>
          <th>Next epoch</th>
          <th>Allocations</th>
        </tr>
      </thead>
      <tbody>
        {wallets.map((wallet) => (
          <tr key={wallet.address} data-testid="treasury-wallet" data-address={wallet.address}>
            <td title={wallet.address}>{shortAddress(wallet.address)}</td>
            <td>${formatToken(wallet.allowanceWei)}</td>
            <td>${formatToken(wallet.nextEpochAllowanceWei)}</td>
            <td>
              <AllocationCell wallet={wallet} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
