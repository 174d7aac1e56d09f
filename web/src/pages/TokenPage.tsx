/**
 * Tokens: VVV, sVVV (unlocked, locked, cooling) and DIEM (held, staked, cooling); stake / unstake / withdraw VVV,
 * mint DIEM with a live quote and the curve, burn DIEM with the sVVV it releases, stake / unstake / withdraw DIEM.
 */
import { useCallback } from 'react';
import type { PublicClient } from 'viem';
import { secondMs } from '../../../src/core/epoch.ts';
import {
  type Holdings,
  type Market,
  readHoldings,
  readMarket,
  type TxContext,
  type TxStep,
  type Wallet,
} from '../chain.ts';
import { Card, ErrorNote, Loading, Stat } from '../components/ui.tsx';
import type { Contracts } from '../config.ts';
import { formatCountdown, formatToken } from '../format.ts';
import { useAsync, useNow } from '../hooks.ts';
import { describeTxError } from '../revert.ts';
import { DiemCard } from './token/DiemCard.tsx';
import { MintCard } from './token/MintCard.tsx';
import { VvvCard } from './token/VvvCard.tsx';

const pollMs = 5_000;

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
          hint={`cooldown ${formatCountdown(Number(market.svvvCooldownSeconds) * secondMs)}`}
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
