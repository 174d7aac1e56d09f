import type { AbiParameter } from 'viem';
import { describe, expect, it } from 'vitest';
import { diemStakingAbi, stakedVvvAbi } from '../../src/chain/generated/contracts.ts';
import { describeCustomError } from './revert.ts';

type AbiEntry = { type: string; name?: string; inputs?: readonly AbiParameter[] };
const inputsOf = (abi: readonly AbiEntry[], name: string): AbiParameter[] => [
  ...(abi.find((item) => item.type === 'error' && item.name === name)?.inputs ?? []),
];

describe('revert reasons', () => {
  it('names the arguments and reads them by their unit suffix', () => {
    const WAD = 10n ** 18n;
    expect(
      describeCustomError('DiemStakingInsufficientStake', inputsOf(diemStakingAbi, 'DiemStakingInsufficientStake'), [
        1_000_000n * WAD,
        125n * WAD,
      ]),
    ).toBe('DiemStakingInsufficientStake(requested 1,000,000.00, staked 125.00)');
    expect(
      describeCustomError('StakedVVVCooldownActive', inputsOf(stakedVvvAbi, 'StakedVVVCooldownActive'), [
        1_700_000_000n,
      ]),
    ).toBe('StakedVVVCooldownActive(endsAt 2023-11-14T22:13:20.000Z)');
    expect(
      describeCustomError('MintCurveTooManyCells', inputsOf(stakedVvvAbi, 'MintCurveTooManyCells'), [300n, 256n]),
    ).toBe('MintCurveTooManyCells(cells 300, maxCells 256)');
  });
});
