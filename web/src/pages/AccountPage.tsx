/** Account: today's DIEM allocation and what is left, USD and credits, the next epoch; API keys (create, list, revoke). */
import { type FormEvent, useState } from 'react';
import { type ApiKeyView, apiJson, type Balance, type CreatedKey, type ModelView } from '../api.ts';
import { SignInGate } from '../components/SignInGate.tsx';
import { Async, Card, Empty, ErrorNote, Stat } from '../components/ui.tsx';
import { formatCountdown, formatTime, formatUsdNano, usdToNano } from '../format.ts';
import { type AsyncState, useAsync, useNow } from '../hooks.ts';
import type { Session } from '../session.ts';

interface Props {
  session: Session | null;
  onSignIn: () => void;
  signingIn: boolean;
}

export function AccountPage(props: Props) {
  return <SignInGate {...props}>{(session) => <Account session={session} />}</SignInGate>;
}

const usd = (value: number) => formatUsdNano(usdToNano(value) ?? 0n);

function Account({ session }: { session: Session }) {
  const balance = useAsync(
    () => apiJson<Balance>('/api/v1/billing/balance', { bearer: session.apiKey }),
    [session],
    10_000,
  );
  const keys = useAsync(
    async () => (await apiJson<{ data: ApiKeyView[] }>('/api/v1/api_keys', { bearer: session.apiKey })).data,
    [session],
  );
  return (
    <div className="page account-page">
      <Async state={balance} what="your balance">
        {(b) => <BalanceCards balance={b} />}
      </Async>
      <div className="grid two">
        <CreateKey session={session} onCreated={() => void keys.reload()} />
        <Card title="API keys">
          <Async state={keys} what="your keys">
            {(list) => <KeyList keys={list} session={session} onRevoked={() => void keys.reload()} />}
          </Async>
        </Card>
      </div>
    </div>
  );
}

function BalanceCards({ balance }: { balance: Balance }) {
  const now = useNow();
  const next = Date.parse(balance.nextEpochBegins);
  return (
    <div className="grid four">
      <Card>
        <Stat
          label="Today's DIEM allocation"
          value={usd(balance.diemEpochAllocation)}
          testId="diem-allocation"
          hint={`epoch ${balance.epoch}`}
        />
      </Card>
      <Card>
        <Stat
          label="DIEM left today"
          value={usd(balance.balances.diem)}
          testId="diem-left"
          hint={balance.canConsume ? `spending ${balance.consumptionCurrency}` : 'nothing to spend'}
        />
      </Card>
      <Card>
        <Stat label="USD balance" value={usd(balance.balances.usd)} hint={`credits ${usd(balance.balances.credits)}`} />
      </Card>
      <Card>
        <Stat
          label="Next epoch in"
          value={formatCountdown(next - now)}
          hint={new Date(next).toUTCString().replace(' GMT', ' UTC')}
        />
      </Card>
    </div>
  );
}

function KeyList({ keys, session, onRevoked }: { keys: ApiKeyView[]; session: Session; onRevoked: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  if (keys.length === 0) return <Empty>No API keys yet. Create one to call the API.</Empty>;
  const revoke = async (key: ApiKeyView) => {
    if (!window.confirm(`Revoke "${key.description}"? Requests with it will fail from now on.`)) return;
    try {
      await apiJson(`/api/v1/api_keys?id=${encodeURIComponent(key.id)}`, { bearer: session.apiKey, method: 'DELETE' });
      onRevoked();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <>
      {error && <ErrorNote error={error} />}
      <div className="table-wrap">
        <table className="keys" data-testid="key-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Key</th>
              <th>Limits</th>
              <th>Models</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td data-label="Name">
                  {key.description}
                  {key.id === session.keyId && <span className="badge">this tab</span>}
                </td>
                <td data-label="Type">{key.apiKeyType}</td>
                <td data-label="Key">
                  <code className="nowrap">{key.last6Chars === null ? `${key.prefix}…` : `…${key.last6Chars}`}</code>
                </td>
                <td data-label="Limits">
                  {key.limits.length === 0
                    ? 'none'
                    : key.limits
                        .map(
                          (l) =>
                            `${l.currency === 'DIEM' ? '' : '$'}${l.amount}${l.currency === 'DIEM' ? ' DIEM' : l.currency === 'TOTAL' ? ' total' : ''}/${l.period.toLowerCase()}${l.remaining === undefined ? '' : ` (${l.remaining} left)`}`,
                        )
                        .join(', ')}
                </td>
                <td data-label="Models">{key.allowedModels?.join(', ') ?? 'all'}</td>
                <td data-label="Expires">{key.expiresAt ? formatTime(key.expiresAt) : 'never'}</td>
                <td>
                  {key.id !== session.keyId && (
                    <button type="button" className="small danger" onClick={() => void revoke(key)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

type LimitCurrency = 'USD' | 'DIEM' | 'TOTAL';
type LimitPeriod = 'EPOCH' | 'MONTH' | 'LIFETIME';

interface SpendLimit {
  amount: string;
  currency: LimitCurrency;
  period: LimitPeriod;
}

/** The secret of the key just created, shown once, with a copy button. */
function NewKeySecret(props: { created: CreatedKey; copied: boolean; onCopy: () => void; onDone: () => void }) {
  return (
    <div className="secret" data-testid="new-key">
      <p>
        <strong>Copy this key now.</strong> It is shown once and stored only as a hash.
      </p>
      <div className="secret-row">
        <code data-testid="new-key-secret">{props.created.apiKey}</code>
        <button type="button" className="small" onClick={props.onCopy}>
          {props.copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <button type="button" className="link" onClick={props.onDone}>
        Done
      </button>
    </div>
  );
}

function SpendLimitFields({ limit, onChange }: { limit: SpendLimit; onChange: (limit: SpendLimit) => void }) {
  return (
    <fieldset className="row">
      <legend className="field-label">Spend limit (optional)</legend>
      <input
        inputMode="decimal"
        placeholder="amount"
        value={limit.amount}
        onChange={(e) => onChange({ ...limit, amount: e.target.value })}
        data-testid="key-limit"
      />
      <select
        value={limit.currency}
        onChange={(e) => onChange({ ...limit, currency: e.target.value as LimitCurrency })}
        aria-label="Limit currency"
      >
        <option value="USD">USD (credits and USD balance)</option>
        <option value="DIEM">DIEM (the DIEM allowance)</option>
        <option value="TOTAL">total (every source)</option>
      </select>
      <select
        value={limit.period}
        onChange={(e) => onChange({ ...limit, period: e.target.value as LimitPeriod })}
        aria-label="Limit period"
      >
        <option value="EPOCH">per epoch (day)</option>
        <option value="MONTH">per month</option>
        <option value="LIFETIME">lifetime</option>
      </select>
    </fieldset>
  );
}

function AllowedModels(props: {
  models: AsyncState<ModelView[]>;
  allowed: string[];
  onChange: (allowed: string[]) => void;
}) {
  const { models, allowed, onChange } = props;
  return (
    <fieldset>
      <legend className="field-label">Allowed models (none checked: all)</legend>
      {models.data?.map((model) => (
        <label key={model.id} className="check">
          <input
            type="checkbox"
            checked={allowed.includes(model.id)}
            onChange={(e) =>
              onChange(e.target.checked ? [...allowed, model.id] : allowed.filter((id) => id !== model.id))
            }
          />
          {model.id}
        </label>
      ))}
      {models.error && <span className="field-error">{models.error.message}</span>}
    </fieldset>
  );
}

/** The body of `POST /api/v1/api_keys` for the form's fields. */
function createKeyBody(fields: {
  type: 'INFERENCE' | 'ADMIN';
  description: string;
  limit: SpendLimit;
  expires: string;
  allowed: string[];
}) {
  const { type, description, limit, expires, allowed } = fields;
  return {
    apiKeyType: type,
    description: description.trim(),
    ...(limit.amount.trim()
      ? { limits: [{ currency: limit.currency, period: limit.period, amount: limit.amount.trim() }] }
      : {}),
    ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}),
    ...(allowed.length > 0 ? { allowedModels: allowed } : {}),
  };
}

function CreateKey({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const models = useAsync(
    async () => (await apiJson<{ data: ModelView[] }>('/api/v1/models', { bearer: session.apiKey })).data,
    [session],
  );
  const [description, setDescription] = useState('');
  const [type, setType] = useState<'INFERENCE' | 'ADMIN'>('INFERENCE');
  const [limit, setLimit] = useState<SpendLimit>({ amount: '', currency: 'USD', period: 'EPOCH' });
  const [expires, setExpires] = useState('');
  const [allowed, setAllowed] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const body = createKeyBody({ type, description, limit, expires, allowed });
      const response = await apiJson<{ data: CreatedKey }>('/api/v1/api_keys', { bearer: session.apiKey, json: body });
      setCreated(response.data);
      setDescription('');
      setLimit((current) => ({ ...current, amount: '' }));
      setExpires('');
      setAllowed([]);
      onCreated();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.apiKey);
      setCopied(true);
    } catch {
      setError(new Error('the browser refused the clipboard; select the key and copy it by hand'));
    }
  };

  return (
    <Card title="Create an API key">
      {created && (
        <NewKeySecret created={created} copied={copied} onCopy={() => void copy()} onDone={() => setCreated(null)} />
      )}
      <form className="key-form" onSubmit={(event) => void submit(event)}>
        <label>
          <span className="field-label">Name</span>
          <input
            required
            maxLength={256}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="my agent"
            data-testid="key-name"
          />
        </label>
        <label>
          <span className="field-label">Type</span>
          <select
            value={type}
            onChange={(e) => setType(e.target.value as 'INFERENCE' | 'ADMIN')}
            data-testid="key-type"
          >
            <option value="INFERENCE">INFERENCE — calls models</option>
            <option value="ADMIN">ADMIN — also manages keys</option>
          </select>
        </label>
        <SpendLimitFields limit={limit} onChange={setLimit} />
        <label>
          <span className="field-label">Expires (optional)</span>
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <AllowedModels models={models} allowed={allowed} onChange={setAllowed} />
        {error && <ErrorNote error={error} />}
        <button type="submit" disabled={busy || description.trim() === ''} data-testid="key-create">
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </form>
    </Card>
  );
}
