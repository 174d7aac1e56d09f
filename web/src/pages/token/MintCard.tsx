/** Mint DIEM: a live quote from the curve mirror, the curve with the quote on it, and the mint transaction. */
import { useMemo, useState } from 'react';
import { curvePoints, MintCurveError, mintCostWei, rateWad } from '../../../../src/core/mintCurve.ts';
import { actions, type Holdings, type Market } from '../../chain.ts';
import { CurveChart } from '../../components/CurveChart.tsx';
import { Measured } from '../../components/Measured.tsx';
import { Card, TxStatus } from '../../components/ui.tsx';
import { formatRateWad, formatToken, parseTokenInput } from '../../format.ts';
import { useTx } from '../../useTx.ts';
import { AmountForm } from './AmountForm.tsx';
import type { ActionProps } from './actionProps.ts';

const wadNumber = (wei: bigint) => Number(wei) / 1e18;

type Curve = Market['curve'];

interface MintQuote {
  costWei: bigint | null;
  rateAfterWad: bigint | null;
  error: string | null;
}

/** What minting `diemWei` more at `supply` locks, or why it cannot. */
function mintQuote(supply: bigint, curve: Curve, diemWei: bigint | null): MintQuote | null {
  if (diemWei === null) return null;
  try {
    const costWei = mintCostWei(supply, diemWei, curve);
    return { costWei, rateAfterWad: rateWad(supply + diemWei, curve), error: null };
  } catch (error) {
    if (error instanceof MintCurveError) return { costWei: null, rateAfterWad: null, error: error.message };
    throw error;
  }
}

/** The curve drawn to 50,000 DIEM or a quarter past the supply (after the quote), capped at the maximum supply. */
function chartPoints(supply: bigint, curve: Curve, diemWei: bigint | null) {
  const fullCurve = 50_000n * 10n ** 18n;
  const end = [fullCurve, (supply * 5n) / 4n, ((supply + (diemWei ?? 0n)) * 5n) / 4n].reduce((a, b) => (a > b ? a : b));
  const capped = end > curve.maxSupplyWei ? curve.maxSupplyWei : end;
  return curvePoints(capped, 96, curve).map((p) => ({
    supply: wadNumber(p.supplyWei),
    rate: wadNumber(p.rateWad),
  }));
}

function MintQuoteNote({ quote, diemWei, holdings }: { quote: MintQuote; diemWei: bigint | null; holdings: Holdings }) {
  const short = quote.costWei != null && quote.costWei > holdings.svvv.unlockedWei;
  return (
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
}

export function MintCard({ holdings, market, context, onDone }: ActionProps & { market: Market }) {
  const [amount, setAmount] = useState('');
  const mint = useTx(onDone);
  const diemWei = parseTokenInput(amount);
  const supply = market.diemSupplyWei;
  const quote = useMemo(() => mintQuote(supply, market.curve, diemWei), [diemWei, supply, market.curve]);
  const points = useMemo(() => chartPoints(supply, market.curve, diemWei), [supply, diemWei, market.curve]);
  const note = quote && <MintQuoteNote quote={quote} diemWei={diemWei} holdings={holdings} />;
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
