/** Shared pieces: cards, stats, loading / empty / error states and the transaction status line. */
import type { ReactNode } from 'react';
import { GatewayError } from '../../../src/core/gatewayError.ts';
import type { TxStep } from '../chain.ts';
import { shortAddress } from '../format.ts';

export function Card({
  title,
  children,
  actions,
  className,
}: {
  title?: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && (
        <header className="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({
  label,
  value,
  hint,
  testId,
}: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorNote({ error, retry }: { error: Error; retry?: () => void }) {
  const refusedKey = error instanceof GatewayError && error.status === 401;
  return (
    <div className="state error" role="alert">
      <strong>{refusedKey ? 'Not authorized.' : 'Something went wrong.'}</strong> {error.message}
      {error instanceof GatewayError && error.code && (
        <>
          {' '}
          <code className="error-code" data-testid="error-code">
            {error.code}
          </code>
        </>
      )}
      {refusedKey && ' If your sign-in expired or its key was revoked, sign out and sign in again.'}
      {retry && (
        <button type="button" className="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading, error or content, for one async value. */
export function Async<T>({
  state,
  what,
  children,
}: {
  state: { data: T | undefined; error: Error | undefined; reload: () => void };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (state.data !== undefined) return <>{children(state.data)}</>;
  if (state.error) return <ErrorNote error={state.error} retry={state.reload} />;
  return <Loading what={what} />;
}

export function TxStatus({ steps }: { steps: TxStep[] }) {
  if (steps.length === 0) return null;
  return (
    <ul className="tx-steps" aria-live="polite">
      {steps.map((step) => (
        <li key={step.label} className={`tx tx-${step.state}`} data-testid="tx-step" data-state={step.state}>
          <span className="tx-dot" aria-hidden="true" />
          <span className="tx-label">{step.label}</span>
          <span className="tx-state">
            {step.state === 'signing' && 'waiting for signature…'}
            {step.state === 'pending' && `pending ${shortAddress(step.hash)}`}
            {step.state === 'confirmed' && `confirmed in block ${step.blockNumber} (${shortAddress(step.hash)})`}
            {step.state === 'failed' && step.message}
          </span>
        </li>
      ))}
    </ul>
  );
}
