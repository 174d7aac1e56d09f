/** Stake VVV (receipt: sVVV); unstake unlocked sVVV and withdraw it once cooled. */
import { useState } from 'react';
import { secondMs } from '../../../../src/core/epoch.ts';
import { actions, type Market } from '../../chain.ts';
import { Card, TxStatus } from '../../components/ui.tsx';
import { formatCountdown, formatToken } from '../../format.ts';
import { useNow } from '../../hooks.ts';
import { useTx } from '../../useTx.ts';
import { AmountForm } from './AmountForm.tsx';
import type { ActionProps } from './actionProps.ts';

export function VvvCard({ holdings, market, context, onDone }: ActionProps & { market: Market }) {
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
          label={`sVVV to unstake (unlocked only; ${formatCountdown(Number(market.svvvCooldownSeconds) * secondMs)} cooldown)`}
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
