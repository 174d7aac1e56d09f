/** Pure funding rules both adapters share: what an allowance or a snapshot block may be. */
import type { NanoUsd } from '../../core/money.ts';

/** An allowance is set for a whole epoch, never below zero; a caller passing less is a programmer error. */
export function validateAllowance(epoch: number, allowanceNano: NanoUsd): void {
  if (allowanceNano < 0n || !Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError('invalid allowance');
}

/** A legacy snapshot block is claimed for an epoch; a negative one is a programmer error. */
export function validateSnapshotBlock(epoch: number, blockNumber: bigint): void {
  if (blockNumber < 0n || !Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError('invalid snapshot block');
}
