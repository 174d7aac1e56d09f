/** Stake DIEM; unstake, withdraw, and burn DIEM with the sVVV it releases (quoted on chain). */
import { useEffect, useState } from 'react';
import type { PublicClient } from 'viem';
import { actions, quoteBurnOnChain, type Wallet } from '../../chain.ts';
import { Card, TxStatus } from '../../components/ui.tsx';
import type { Contracts } from '../../config.ts';
import { formatToken, parseTokenInput } from '../../format.ts';
import { useNow } from '../../hooks.ts';
import { describeTxError } from '../../revert.ts';
import { useTx } from '../../useTx.ts';
import { AmountForm } from './AmountForm.tsx';
import type { ActionProps } from './actionProps.ts';

/** How long the burn amount must rest before it is quoted on chain. */
const burnQuoteDebounceMs = 250;

const smaller = (a: bigint, b: bigint) => (a < b ? a : b);

interface ChainProps {
  client: PublicClient;
  contracts: Contracts;
  wallet: Wallet;
}

type BurnQuote = { wei: bigint | null; error: string | null } | null;

/** The sVVV burning `burnWei` DIEM would release, quoted on chain once the amount rests. */
function useBurnQuote({ client, contracts, wallet }: ChainProps, burnWei: bigint | null): BurnQuote {
  const [burnQuote, setBurnQuote] = useState<BurnQuote>(null);
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
    }, burnQuoteDebounceMs);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [burnWei, client, contracts, wallet.address]);
  return burnQuote;
}

function BurnForm({ holdings, context, onDone, chain }: ActionProps & { chain: ChainProps }) {
  const [burnAmount, setBurnAmount] = useState('');
  const burn = useTx(onDone);
  const burnQuote = useBurnQuote(chain, parseTokenInput(burnAmount));
  return (
    <>
      <AmountForm
        label="DIEM to burn (unlocks your sVVV at the ratio you locked it)"
        symbol="DIEM"
        maxWei={smaller(holdings.diem.heldWei, holdings.mintedWei)}
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
    </>
  );
}

function UnstakeDiem({ holdings, context, onDone }: ActionProps) {
  const [unstakeAmount, setUnstakeAmount] = useState('');
  const unstake = useTx(onDone);
  const withdraw = useTx(onDone);
  const now = useNow();
  const { diem } = holdings;
  const canWithdraw = diem.coolingWei > 0n && diem.coolingEndsAtMs <= now;
  return (
    <>
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
    </>
  );
}

export function DiemCard({
  holdings,
  context,
  onDone,
  client,
  contracts,
  wallet,
}: ActionProps & { client: PublicClient; contracts: Contracts; wallet: Wallet }) {
  const [stakeAmount, setStakeAmount] = useState('');
  const stake = useTx(onDone);
  const actionProps = { holdings, context, onDone };
  return (
    <Card title="Stake DIEM" className="diem-card">
      <p className="muted">Each staked DIEM is $1 of inference per epoch (UTC day), from the moment you stake.</p>
      <AmountForm
        label="DIEM to stake"
        symbol="DIEM"
        maxWei={holdings.diem.heldWei}
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
        <UnstakeDiem {...actionProps} />
        <BurnForm {...actionProps} chain={{ client, contracts, wallet }} />
      </details>
    </Card>
  );
}
