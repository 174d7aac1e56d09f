/**
 * Tokens: VVV, sVVV (unlocked, locked, cooling) and DIEM (held, staked, cooling); stake / unstake / withdraw VVV,
 * mint DIEM with a live quote and the curve, burn DIEM with the sVVV it releases, stake / unstake / withdraw DIEM.
 */
import { type FormEvent, type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import type { PublicClient } from 'viem';
import { curvePoints, MintCurveError, mintCostWei, rateWad } from '../../../src/core/mintCurve.ts';
import {
  actions,
  type Holdings,
  type Market,
  quoteBurnOnChain,
  readHoldings,
  readMarket,
  type TxContext,
  type TxStep,
  type Wallet,
} from '../chain.ts';
import { CurveChart } from '../components/CurveChart.tsx';
import { Measured } from '../components/Measured.tsx';
import { Card, ErrorNote, Loading, Stat, TxStatus } from '../components/ui.tsx';
import type { Contracts } from '../config.ts';
import { formatCountdown, formatRateWad, formatToken, parseTokenInput } from '../format.ts';
import { useAsync, useNow } from '../hooks.ts';
import { describeTxError } from '../revert.ts';
import { useTx } from '../useTx.ts';

const pollMs = 5_000;
const wadNumber = (wei: bigint) => Number(wei) / 1e18;

interface Props {
  wallet: Wallet;
  client: PublicClient;
  contracts: Contracts;
}

export function TokenPage({ wallet, client, contracts }: Props) {
  const state = useAsync(
    async () => {
      try {
        const [holdings, market] = await Promise.all([
          readHoldings(client, contracts, wallet.address),
          readMarket(client, contracts),
        ]);
        return { holdings, market };
      } catch (error) {
        throw new Error(`cannot read the chain: ${describeTxError(error)}`);
      }
    },
    [client, contracts, wallet.address],
    pollMs,
  );
  const refresh = useCallback(() => void state.reload(), [state.reload]);
  const context = useCallback(
    (report: (step: TxStep) => void): TxContext => ({ wallet, client, contracts, report }),
    [wallet, client, contracts],
  );

  if (!state.data) {
    return state.error ? <ErrorNote error={state.error} retry={refresh} /> : <Loading what="your positions" />;
  }
  const { holdings, market } = state.data;
  return (
    <div className="page token-page">
      {state.error && <ErrorNote error={state.error} retry={refresh} />}
      <Balances holdings={holdings} market={market} />
      <div className="grid two">
        <MintCard holdings={holdings} market={market} context={context} onDone={refresh} />
        <div className="stack">
          <DiemCard
            holdings={holdings}
            context={context}
            onDone={refresh}
            client={client}
            contracts={contracts}
            wallet={wallet}
          />
          <VvvCard holdings={holdings} market={market} context={context} onDone={refresh} />
        </div>
      </div>
    </div>
  );
}

function Cooling({ amountWei, endsAtMs, symbol }: { amountWei: bigint; endsAtMs: number; symbol: string }) {
  const now = useNow();
  if (amountWei === 0n) return <>none</>;
  const left = endsAtMs - now;
  return (
    <>
      {formatToken(amountWei)} {symbol}{' '}
      <span className={left > 0 ? 'countdown' : 'countdown ready'}>
        {left > 0 ? `ready in ${formatCountdown(left)}` : 'ready to withdraw'}
      </span>
    </>
  );
}

function Balances({ holdings, market }: { holdings: Holdings; market: Market }) {
  const { svvv, diem } = holdings;
  return (
    <div className="grid three balances">
      <Card title="VVV">
        <Stat label="In wallet" value={`${formatToken(holdings.vvvWei)} VVV`} testId="vvv-balance" />
        <Stat label="Emissions earned" value={`${formatToken(holdings.earnedWei, 4)} VVV`} />
      </Card>
      <Card title="sVVV">
        <Stat label="Unlocked" value={`${formatToken(svvv.unlockedWei)} sVVV`} testId="svvv-unlocked" />
        <Stat label="Locked (backing your DIEM)" value={`${formatToken(svvv.lockedWei)} sVVV`} testId="svvv-locked" />
        <Stat
          label="Cooling down"
          value={<Cooling amountWei={svvv.coolingWei} endsAtMs={svvv.coolingEndsAtMs} symbol="VVV" />}
          hint={`cooldown ${formatCountdown(Number(market.svvvCooldownSeconds) * 1000)}`}
        />
      </Card>
      <Card title="DIEM">
        <Stat label="Held" value={`${formatToken(diem.heldWei)} DIEM`} testId="diem-held" />
        <Stat
          label="Staked"
          value={`${formatToken(diem.stakedWei)} DIEM`}
          hint={`$${formatToken(holdings.allowanceWei)} of inference today · $${formatToken(holdings.nextEpochAllowanceWei)} next epoch`}
          testId="diem-staked"
        />
        <Stat
          label="Cooling down"
          value={<Cooling amountWei={diem.coolingWei} endsAtMs={diem.coolingEndsAtMs} symbol="DIEM" />}
        />
      </Card>
    </div>
  );
}

/** A token amount field with a Max button, a live note under it and a submit button. */
function AmountForm({
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

const smaller = (a: bigint, b: bigint) => (a < b ? a : b);

/** Exact decimal text of a wei amount, for the Max button. */
function formatPlain(wei: bigint): string {
  const integer = wei / 10n ** 18n;
  const fraction = (wei % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return fraction ? `${integer}.${fraction}` : integer.toString();
}

interface ActionProps {
  holdings: Holdings;
  context: (report: (step: TxStep) => void) => TxContext;
  onDone: () => void;
}

function MintCard({ holdings, market, context, onDone }: ActionProps & { market: Market }) {
  const [amount, setAmount] = useState('');
  const mint = useTx(onDone);
  const diemWei = parseTokenInput(amount);
  const supply = market.diemSupplyWei;
  const quote = useMemo(() => {
    if (diemWei === null) return null;
    try {
      const costWei = mintCostWei(supply, diemWei, market.curve);
      return { costWei, rateAfterWad: rateWad(supply + diemWei, market.curve), error: null };
    } catch (error) {
      if (error instanceof MintCurveError) return { costWei: null, rateAfterWad: null, error: error.message };
      throw error;
    }
  }, [diemWei, supply, market.curve]);
  const points = useMemo(() => {
    const fullCurve = 50_000n * 10n ** 18n;
    const end = [fullCurve, (supply * 5n) / 4n, ((supply + (diemWei ?? 0n)) * 5n) / 4n].reduce((a, b) =>
      a > b ? a : b,
    );
    const capped = end > market.curve.maxSupplyWei ? market.curve.maxSupplyWei : end;
    return curvePoints(capped, 96, market.curve).map((p) => ({
      supply: wadNumber(p.supplyWei),
      rate: wadNumber(p.rateWad),
    }));
  }, [supply, diemWei, market.curve]);

  const short = quote?.costWei != null && quote.costWei > holdings.svvv.unlockedWei;
  const note = quote && (
    <div className="quote" data-testid="mint-quote">
      {quote.error ? (
        <span className="field-error">{quote.error}</span>
      ) : (
        <>
          <div>
            Locks <strong data-testid="mint-cost">{formatToken(quote.costWei!, 4)} sVVV</strong> (average{' '}
            {formatRateWad(diemWei ? (quote.costWei! * 10n ** 18n) / diemWei : 0n)} per DIEM)
          </div>
          <div className="muted">Rate after this mint: {formatRateWad(quote.rateAfterWad!)} sVVV per DIEM</div>
          {short && (
            <div className="field-error">
              You have {formatToken(holdings.svvv.unlockedWei)} unlocked sVVV: stake more VVV first.
            </div>
          )}
        </>
      )}
    </div>
  );
  return (
    <Card
      title="Mint DIEM"
      className="mint-card"
      actions={
        <span className="rate" data-testid="mint-rate">
          {formatRateWad(market.mintRateWad)} sVVV / DIEM
        </span>
      }
    >
      <p className="muted">
        Minting locks unlocked sVVV at the integral of the mint-rate curve over the supply you add. Supply now{' '}
        <strong data-testid="diem-supply">{formatToken(supply)} DIEM</strong>.
      </p>
      <Measured fallback={560}>
        {(width) => (
          <CurveChart
            width={width}
            height={Math.round(Math.min(300, Math.max(220, width * 0.5)))}
            points={points}
            currentSupply={wadNumber(supply)}
            currentRate={wadNumber(market.mintRateWad)}
            quoteToSupply={quote?.costWei != null && diemWei !== null ? wadNumber(supply + diemWei) : undefined}
          />
        )}
      </Measured>
      <AmountForm
        label="DIEM to mint"
        symbol="DIEM"
        submit="Mint DIEM"
        busy={mint.busy}
        amount={amount}
        setAmount={setAmount}
        note={note}
        testId="mint"
        onSubmit={(wei) => {
          const cost = quote?.costWei;
          if (cost == null) return;
          void mint.run(async (report) => {
            await actions.mintDiem(context(report), wei, cost);
            setAmount('');
          });
        }}
      />
      <TxStatus steps={mint.steps} />
    </Card>
  );
}

function DiemCard({
  holdings,
  context,
  onDone,
  client,
  contracts,
  wallet,
}: ActionProps & { client: PublicClient; contracts: Contracts; wallet: Wallet }) {
  const [stakeAmount, setStakeAmount] = useState('');
  const [unstakeAmount, setUnstakeAmount] = useState('');
  const [burnAmount, setBurnAmount] = useState('');
  const stake = useTx(onDone);
  const unstake = useTx(onDone);
  const withdraw = useTx(onDone);
  const burn = useTx(onDone);
  const now = useNow();
  const burnWei = parseTokenInput(burnAmount);
  const [burnQuote, setBurnQuote] = useState<{ wei: bigint | null; error: string | null } | null>(null);
  useEffect(() => {
    if (burnWei === null) {
      setBurnQuote(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      quoteBurnOnChain(client, contracts, wallet.address, burnWei).then(
        (wei) => live && setBurnQuote({ wei, error: null }),
        (error: unknown) => live && setBurnQuote({ wei: null, error: describeTxError(error) }),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [burnWei, client, contracts, wallet.address]);
  const { diem } = holdings;
  const canWithdraw = diem.coolingWei > 0n && diem.coolingEndsAtMs <= now;

  return (
    <Card title="Stake DIEM" className="diem-card">
      <p className="muted">Each staked DIEM is $1 of inference per epoch (UTC day), from the moment you stake.</p>
      <AmountForm
        label="DIEM to stake"
        symbol="DIEM"
        maxWei={diem.heldWei}
        submit="Stake DIEM"
        busy={stake.busy}
        amount={stakeAmount}
        setAmount={setStakeAmount}
        testId="stake-diem"
        onSubmit={(wei) =>
          void stake.run(async (report) => {
            await actions.stakeDiem(context(report), wei);
            setStakeAmount('');
          })
        }
      />
      <TxStatus steps={stake.steps} />
      <details className="more">
        <summary>Unstake, withdraw or burn DIEM</summary>
        <AmountForm
          label="DIEM to unstake (starts the cooldown; restarts it for DIEM already cooling)"
          symbol="DIEM"
          maxWei={diem.stakedWei}
          submit="Unstake DIEM"
          busy={unstake.busy}
          amount={unstakeAmount}
          setAmount={setUnstakeAmount}
          testId="unstake-diem"
          onSubmit={(wei) => void unstake.run((report) => actions.unstakeDiem(context(report), wei))}
        />
        <TxStatus steps={unstake.steps} />
        <button
          type="button"
          disabled={!canWithdraw || withdraw.busy}
          onClick={() => void withdraw.run((report) => actions.withdrawDiem(context(report)))}
        >
          Withdraw {formatToken(diem.coolingWei)} cooled DIEM
        </button>
        <TxStatus steps={withdraw.steps} />
        <AmountForm
          label="DIEM to burn (unlocks your sVVV at the ratio you locked it)"
          symbol="DIEM"
          maxWei={smaller(diem.heldWei, holdings.mintedWei)}
          submit="Burn DIEM"
          busy={burn.busy}
          amount={burnAmount}
          setAmount={setBurnAmount}
          testId="burn"
          note={
            burnQuote && (
              <div className="quote" data-testid="burn-quote">
                {burnQuote.error ? (
                  <span className="field-error">{burnQuote.error}</span>
                ) : (
                  <>
                    Releases <strong>{formatToken(burnQuote.wei!, 4)} sVVV</strong>
                  </>
                )}
              </div>
            )
          }
          onSubmit={(wei) =>
            void burn.run(async (report) => {
              await actions.burnDiem(context(report), wei);
              setBurnAmount('');
            })
          }
        />
        <TxStatus steps={burn.steps} />
      </details>
    </Card>
  );
}

function VvvCard({ holdings, market, context, onDone }: ActionProps & { market: Market }) {
  const [stakeAmount, setStakeAmount] = useState('');
  const [unstakeAmount, setUnstakeAmount] = useState('');
  const stake = useTx(onDone);
  const unstake = useTx(onDone);
  const withdraw = useTx(onDone);
  const now = useNow();
  const { svvv } = holdings;
  const canWithdraw = svvv.coolingWei > 0n && svvv.coolingEndsAtMs <= now;
  return (
    <Card title="Stake VVV" className="vvv-card">
      <AmountForm
        label="VVV to stake (receipt: sVVV)"
        symbol="VVV"
        maxWei={holdings.vvvWei}
        submit="Stake VVV"
        busy={stake.busy}
        amount={stakeAmount}
        setAmount={setStakeAmount}
        testId="stake-vvv"
        onSubmit={(wei) =>
          void stake.run(async (report) => {
            await actions.stakeVvv(context(report), wei);
            setStakeAmount('');
          })
        }
      />
      <TxStatus steps={stake.steps} />
      <details className="more">
        <summary>Unstake or withdraw VVV</summary>
        <AmountForm
          label={`sVVV to unstake (unlocked only; ${formatCountdown(Number(market.svvvCooldownSeconds) * 1000)} cooldown)`}
          symbol="sVVV"
          maxWei={svvv.unlockedWei}
          submit="Unstake sVVV"
          busy={unstake.busy}
          amount={unstakeAmount}
          setAmount={setUnstakeAmount}
          testId="unstake-vvv"
          onSubmit={(wei) => void unstake.run((report) => actions.unstakeVvv(context(report), wei))}
        />
        <TxStatus steps={unstake.steps} />
        <button
          type="button"
          disabled={!canWithdraw || withdraw.busy}
          onClick={() => void withdraw.run((report) => actions.withdrawVvv(context(report)))}
        >
          Withdraw {formatToken(svvv.coolingWei)} cooled VVV
        </button>
        <TxStatus steps={withdraw.steps} />
      </details>
    </Card>
  );
}
