/** A token amount field with a Max button, a live note under it and a submit button, for the token actions. */
import type { FormEvent, ReactNode } from 'react';
import { parseTokenInput } from '../../format.ts';

export function AmountForm({
  label,
  symbol,
  maxWei,
  submit,
  busy,
  onSubmit,
  note,
  testId,
  amount,
  setAmount,
}: {
  label: string;
  symbol: string;
  maxWei?: bigint;
  submit: string;
  busy: boolean;
  onSubmit: (wei: bigint) => void;
  note?: ReactNode;
  testId: string;
  amount: string;
  setAmount: (text: string) => void;
}) {
  const wei = parseTokenInput(amount);
  const invalid = amount.trim() !== '' && wei === null;
  const submitForm = (event: FormEvent) => {
    event.preventDefault();
    if (wei !== null) onSubmit(wei);
  };
  return (
    <form className="amount-form" onSubmit={submitForm}>
      <label>
        <span className="field-label">{label}</span>
        <span className="amount-input">
          <input
            inputMode="decimal"
            placeholder="0.0"
            value={amount}
            onChange={(event) => setAmount(event.target.value)}
            aria-invalid={invalid}
            data-testid={`${testId}-amount`}
          />
          <span className="unit">{symbol}</span>
          {maxWei !== undefined && (
            <button type="button" className="small ghost" onClick={() => setAmount(formatPlain(maxWei))}>
              Max
            </button>
          )}
        </span>
      </label>
      {invalid && <p className="field-error">Enter a positive amount with at most 18 decimals.</p>}
      {note}
      <button type="submit" disabled={busy || wei === null} data-testid={`${testId}-submit`}>
        {busy ? 'Working…' : submit}
      </button>
    </form>
  );
}

/** Exact decimal text of a wei amount, for the Max button. */
function formatPlain(wei: bigint): string {
  const integer = wei / 10n ** 18n;
  const fraction = (wei % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return fraction ? `${integer}.${fraction}` : integer.toString();
}
