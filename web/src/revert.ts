/**
 * A failed transaction in words: the contract's custom error with its arguments named and read by their unit suffix
 * (`…Wei` as a token amount, `…Wad` as a rate, `endsAt` as a time), e.g.
 * "DiemStakingInsufficientStake(requested 1,000.00, staked 125.00)".
 */
import { type AbiParameter, BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from 'viem';
import { formatFixed, formatToken } from './format.ts';

function describeArg(input: AbiParameter | undefined, value: unknown): string {
  const name = input?.name ?? '';
  if (typeof value === 'bigint') {
    if (name.endsWith('Wei')) return `${name.slice(0, -3)} ${formatToken(value)}`;
    if (name.endsWith('Wad')) return `${name.slice(0, -3)} ${formatFixed(value, 18, 4)}`;
    if (name === 'endsAt' || name.startsWith('valid')) return `${name} ${new Date(Number(value) * 1000).toISOString()}`;
  }
  return name ? `${name} ${String(value)}` : String(value);
}

export function describeCustomError(
  errorName: string,
  inputs: readonly AbiParameter[],
  args: readonly unknown[],
): string {
  return `${errorName}(${args.map((arg, i) => describeArg(inputs[i], arg)).join(', ')})`;
}

export function describeTxError(error: unknown): string {
  if (error instanceof BaseError) {
    if (error.walk((inner) => inner instanceof UserRejectedRequestError)) return 'rejected in the wallet';
    const reverted = error.walk((inner) => inner instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
      const inputs = reverted.data.abiItem.type === 'error' ? reverted.data.abiItem.inputs : [];
      return `reverted: ${describeCustomError(reverted.data.errorName, inputs, reverted.data.args ?? [])}`;
    }
    if (reverted instanceof ContractFunctionRevertedError && reverted.reason) return `reverted: ${reverted.reason}`;
    return error.shortMessage;
  }
  return error instanceof Error ? error.message : String(error);
}
