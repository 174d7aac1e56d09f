/**
 * The events the follower records, and their decoding with the generated ABIs into one flat row shape. Each
 * contract has its own ABI and its own list of tracked events; a log is decoded with the ABI of the contract that
 * emitted it, so `Staked` on StakedVVV and `Staked` on DiemStaking never mix.
 *
 * sVVV `Transfer` is recorded only between two holders: stake and initiateUnstake also emit Transfer(0, a) and
 * Transfer(a, 0), which would repeat the `Staked` and `UnstakeInitiated` rows already recorded. The emission-rate
 * events name no account (the owner proposes and cancels, anyone applies): their `account` is the zero address, and
 * they are found by kind. A DiemStaking `AllocationSet` is recorded with the delegator as `account` and the member as
 * `counterparty` (so either finds it in its history), the amount from `effectiveEpoch` on as `amountWei` (0: revoked).
 */
import {
  type AbiEvent,
  type Address,
  decodeEventLog,
  getAbiItem,
  type Hex,
  type Log,
  toEventSelector,
  zeroAddress,
} from 'viem';
import type { PerdiemContracts } from '../deploy.ts';
import { diemAbi, diemStakingAbi, stakedVvvAbi, vvvAbi } from '../generated/contracts.ts';

/** The follower keeps no history of the PriceRegistry: the gateway reads its anchors directly. */
export type TrackedContract = Exclude<keyof PerdiemContracts, 'priceRegistry'>;

export const trackedEvents = {
  stakedVvv: [
    'Staked',
    'UnstakeInitiated',
    'Withdrawn',
    'DiemMinted',
    'DiemBurned',
    'RewardsClaimed',
    'Transfer',
    'AnnualEmissionProposed',
    'AnnualEmissionCancelled',
    'AnnualEmissionSet',
  ],
  diemStaking: ['Staked', 'UnstakeInitiated', 'Withdrawn', 'AllocationSet'],
  diem: ['Transfer'],
  vvv: ['Transfer'],
} as const satisfies Record<TrackedContract, readonly string[]>;

/** `<contract>.<Event>`, e.g. "stakedVvv.DiemMinted" or "diem.Transfer". */
export type ChainEventKind = {
  [C in TrackedContract]: `${C}.${(typeof trackedEvents)[C][number]}`;
}[TrackedContract];

export const chainEventKinds: readonly ChainEventKind[] = (Object.keys(trackedEvents) as TrackedContract[]).flatMap(
  (contract) => trackedEvents[contract].map((event) => `${contract}.${event}` as ChainEventKind),
);

/** One recorded event. Amounts are wei (or seconds for `coolingEndsAt`), never floats. */
export interface ChainEvent {
  chainId: number;
  contract: TrackedContract;
  address: Address;
  kind: ChainEventKind;
  blockNumber: bigint;
  blockHash: Hex;
  /** Unix seconds of the block. */
  blockTimestampSeconds: bigint;
  txHash: Hex;
  logIndex: number;
  /**
   * Who acted: the staker, minter or burner; for a transfer, the sender (the zero address on a mint); the zero
   * address for an emission-rate change (the log names no account).
   */
  account: Address;
  /** For a transfer, the recipient (the zero address on a burn); for an allocation, the member; otherwise null. */
  counterparty: Address | null;
  /** The event's main amount: `amountWei`, `diemWei`, the transfer `value`, or the (new) `annualEmissionWei`. */
  amountWei: bigint;
  /** The event's other numbers by their ABI names, e.g. `svvvLockedWei`, `coolingWei`, `coolingEndsAt`. */
  details: Record<string, bigint>;
}

const abis = { stakedVvv: stakedVvvAbi, diemStaking: diemStakingAbi, diem: diemAbi, vvv: vvvAbi } as const;

/** The ABI items of every tracked event, for the `eth_getLogs` topic filter (identical signatures appear once). */
export function trackedAbiEvents(): AbiEvent[] {
  const bySelector = new Map<Hex, AbiEvent>();
  for (const contract of Object.keys(trackedEvents) as TrackedContract[]) {
    for (const name of trackedEvents[contract]) {
      const item = getAbiItem({ abi: abis[contract] as readonly AbiEvent[], name }) as AbiEvent;
      bySelector.set(toEventSelector(item), item);
    }
  }
  return [...bySelector.values()];
}

/** The part of a log the decoder reads. */
export type RawLog = Pick<Log, 'address' | 'topics' | 'data'>;

/** The event-specific columns of a row: everything but its position in the chain. */
export type DecodedEvent = Pick<ChainEvent, 'contract' | 'kind' | 'account' | 'counterparty' | 'amountWei' | 'details'>;

/** Decodes a log from `contract`; null when it is not a tracked event of that contract (e.g. an Approval). */
export function decodeTrackedLog(contract: TrackedContract, log: RawLog): DecodedEvent | null {
  const topics = log.topics as [Hex, ...Hex[]];
  switch (contract) {
    case 'stakedVvv': {
      const event = tryDecode(() => decodeEventLog({ abi: stakedVvvAbi, topics, data: log.data, strict: true }));
      if (!event) return null;
      switch (event.eventName) {
        case 'Staked':
        case 'Withdrawn':
        case 'RewardsClaimed':
          return actorEvent(contract, event.eventName, event.args.account, event.args.amountWei, {});
        case 'UnstakeInitiated': {
          const { account, amountWei, coolingWei, coolingEndsAt } = event.args;
          return actorEvent(contract, event.eventName, account, amountWei, { coolingWei, coolingEndsAt });
        }
        case 'DiemMinted':
          return actorEvent(contract, event.eventName, event.args.account, event.args.diemWei, {
            svvvLockedWei: event.args.svvvLockedWei,
          });
        case 'DiemBurned':
          return actorEvent(contract, event.eventName, event.args.account, event.args.diemWei, {
            svvvUnlockedWei: event.args.svvvUnlockedWei,
          });
        case 'Transfer': {
          const { from, to, value } = event.args;
          if (from === zeroAddress || to === zeroAddress) return null;
          return {
            contract,
            kind: 'stakedVvv.Transfer',
            account: from,
            counterparty: to,
            amountWei: value,
            details: {},
          };
        }
        case 'AnnualEmissionProposed':
        case 'AnnualEmissionCancelled': {
          const { annualEmissionWei, effectiveAt } = event.args;
          return actorEvent(contract, event.eventName, zeroAddress, annualEmissionWei, { effectiveAt });
        }
        case 'AnnualEmissionSet': {
          const { previousAnnualEmissionWei, annualEmissionWei } = event.args;
          return actorEvent(contract, event.eventName, zeroAddress, annualEmissionWei, { previousAnnualEmissionWei });
        }
        default:
          return null;
      }
    }
    case 'diemStaking':
      return decodeDiemStakingLog(topics, log.data);
    case 'diem': {
      const event = tryDecode(() => decodeEventLog({ abi: diemAbi, topics, data: log.data, strict: true }));
      if (event?.eventName !== 'Transfer') return null;
      const { from, to, value } = event.args;
      return { contract, kind: 'diem.Transfer', account: from, counterparty: to, amountWei: value, details: {} };
    }
    case 'vvv': {
      const event = tryDecode(() => decodeEventLog({ abi: vvvAbi, topics, data: log.data, strict: true }));
      if (event?.eventName !== 'Transfer') return null;
      const { from, to, value } = event.args;
      return { contract, kind: 'vvv.Transfer', account: from, counterparty: to, amountWei: value, details: {} };
    }
  }
}

function decodeDiemStakingLog(topics: [Hex, ...Hex[]], data: Hex): DecodedEvent | null {
  const contract = 'diemStaking';
  const event = tryDecode(() => decodeEventLog({ abi: diemStakingAbi, topics, data, strict: true }));
  if (!event) return null;
  switch (event.eventName) {
    case 'Staked':
      return actorEvent(contract, event.eventName, event.args.account, event.args.amountWei, {
        stakedWei: event.args.stakedWei,
      });
    case 'UnstakeInitiated': {
      const { account, amountWei, coolingWei, coolingEndsAt } = event.args;
      return actorEvent(contract, event.eventName, account, amountWei, { coolingWei, coolingEndsAt });
    }
    case 'Withdrawn':
      return actorEvent(contract, event.eventName, event.args.account, event.args.amountWei, {});
    case 'AllocationSet': {
      const { delegator, member, amountWei, effectiveEpoch, delegatorOutWei, memberInWei } = event.args;
      return {
        contract,
        kind: 'diemStaking.AllocationSet',
        account: delegator,
        counterparty: member,
        amountWei,
        details: { effectiveEpoch, delegatorOutWei, memberInWei },
      };
    }
    default:
      return null;
  }
}

function actorEvent<C extends TrackedContract>(
  contract: C,
  eventName: (typeof trackedEvents)[C][number],
  account: Address,
  amountWei: bigint,
  details: Record<string, bigint>,
): DecodedEvent {
  return {
    contract,
    kind: `${contract}.${eventName}` as ChainEventKind,
    account,
    counterparty: null,
    amountWei,
    details,
  };
}

/** A topic outside the contract's ABI is not ours to record; any other decoding failure is a bug and throws. */
function tryDecode<T>(decode: () => T): T | null {
  try {
    return decode();
  } catch (error) {
    if ((error as Error).name === 'AbiEventSignatureNotFoundError') return null;
    throw error;
  }
}
