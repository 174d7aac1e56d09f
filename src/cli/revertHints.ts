/**
 * What a custom error means, in words, for the errors whose raw arguments do not speak for themselves. The CLI
 * prints `reverted: Name(args) — words`, so scripts can still match the name and the exact values.
 */
import { formatToken } from './amounts.ts';

/** Words for a decoded custom error, or undefined when there is nothing to add. */
export type RevertHint = (errorName: string, args: readonly unknown[]) => string | undefined;

/** The positional arguments of a custom error as bigints (every numeric argument of ours is a uint256). */
export function uintArgs(args: readonly unknown[]): bigint[] {
  return args.map((arg) => (typeof arg === 'bigint' ? arg : 0n));
}

/** The refusals a holder meets: the launch guard and sVVV that is locked or cooling. */
export const holderRevertHint: RevertHint = (errorName, args) => {
  const [a = 0n, b = 0n, c = 0n] = uintArgs(args);
  switch (errorName) {
    case 'StakedVVVLaunchMintCapExceeded':
      return `during the launch window each address may mint at most ${formatToken(c)} DIEM; this one has minted ${formatToken(b)} and asked for ${formatToken(a)} more`;
    case 'StakedVVVInsufficientUnlocked':
      return `only ${formatToken(b)} sVVV is unlocked (asked for ${formatToken(a)}); locked sVVV backs the DIEM this wallet minted, cooling sVVV waits for withdraw`;
    case 'DiemStakingStakeAllocated':
      return `this wallet allocates ${formatToken(b)} DIEM of its allowance from the next epoch and must keep that much staked (this would leave ${formatToken(a)}); lower the allocations first with \`perdiem allocate\``;
    default:
      return undefined;
  }
};
