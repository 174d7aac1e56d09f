/** What an account can spend: the DIEM allowance of each epoch, credits and USD. */
import type { NanoUsd } from '../../core/money.ts';

export interface Balance {
  accountId: string;
  epoch: number;
  nextEpochBegins: string;
  diem: { allowanceNano: NanoUsd; spentNano: NanoUsd; reservedNano: NanoUsd; availableNano: NanoUsd };
  credits: { availableNano: NanoUsd; reservedNano: NanoUsd };
  usd: { availableNano: NanoUsd; reservedNano: NanoUsd };
}

export interface AddFundsInput {
  accountId: string;
  source: 'CREDITS' | 'USD';
  /** Positive. */
  amountNano: NanoUsd;
  /** Unique per funding event (an x402 payment id, an admin grant id): credited at most once. */
  reference: string;
}

export interface Funding {
  reference: string;
  source: 'CREDITS' | 'USD';
  amountNano: NanoUsd;
  createdAtMs: number;
}

/** Allowances, fundings and balances. */
export interface FundingLedger {
  /**
   * An account's DIEM allowance for an epoch is its direct part plus the sum of its linked wallets' parts; each setter
   * below replaces only its own part, in one transaction with the new total and an ALLOWANCE journal entry for the
   * change. A rise counts at once; a lowering lowers what is left (spend already made stays).
   *
   * Sets the account's direct part: an operator's grant (`PUT /admin/accounts/:id/diem-allowance`) or a test's,
   * with no wallet behind it. The chain feed never writes it.
   */
  setDiemAllowance(accountId: string, epoch: number, allowanceNano: NanoUsd): Promise<void>;
  /**
   * Sets one linked wallet's part for the epoch (the chain feed: `DiemStaking.allowanceOf`, or its legacy share). The
   * account it counts for is the one the wallet is linked to, read in the same transaction, so a wallet counts for
   * one account only; NotFoundError (`wallet_not_found`) for a wallet linked to none.
   */
  setWalletAllowance(address: string, epoch: number, allowanceNano: NanoUsd): Promise<void>;
  /**
   * The chain block the legacy allocation reads every share of `epoch` at, once one is claimed; null before. Every
   * feed (a restarted process, another replica) reads the same block, so the shares of an epoch sum to at most its
   * capacity.
   */
  allowanceSnapshotBlock(epoch: number): Promise<bigint | null>;
  /**
   * Records `blockNumber` as the epoch's snapshot block unless one is recorded already, and returns the recorded one:
   * the first claim wins, also between processes. RangeError for a negative epoch or block.
   */
  claimAllowanceSnapshotBlock(epoch: number, blockNumber: bigint): Promise<bigint>;
  /** Credits an account once per `reference`; returns false when the reference was already applied. */
  addFunds(input: AddFundsInput): Promise<boolean>;
  balance(accountId: string): Promise<Balance>;
  /** The account's credited fundings (credits and USD top-ups), newest first. */
  fundings(input: { accountId: string; source?: 'CREDITS' | 'USD'; limit?: number }): Promise<Funding[]>;
}
