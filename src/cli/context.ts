/**
 * Where a verb's settings come from: flags first, then environment variables, then `.perdiem/state.json` as
 * `perdiem up` wrote it. Also opens the chain (with a probe, so a dead RPC is one clear line) and renders reverts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  decodeErrorResult,
  type Hex,
  http,
  isAddress,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainActionError, type ChainContext, decodeChainError } from '../chain/actions.ts';
import { chainFor, type PublicClient, publicClientFor, walletClientFor } from '../chain/clients.ts';
import type { PerdiemContracts } from '../chain/deploy.ts';
import { diemAbi, diemStakingAbi, stakedVvvAbi, vvvAbi } from '../chain/generated/contracts.ts';
import { type CliIo, type OptionSpec, UsageError } from './command.ts';
import { rpcProbeTimeoutMs } from './limits.ts';
import { holderRevertHint, type RevertHint } from './revertHints.ts';
import { readStackState, type StackState } from './stateFile.ts';

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export const homeOptions: OptionSpec = {
  home: { type: 'string' },
  json: { type: 'boolean' },
};

export const chainOptions: OptionSpec = {
  ...homeOptions,
  rpc: { type: 'string' },
  contracts: { type: 'string' },
  'private-key': { type: 'string' },
};

export const chainUsage = [
  '  --rpc URL           JSON-RPC endpoint (default: rpcUrl in .perdiem/state.json)',
  '  --contracts FILE    JSON with {vvv, stakedVvv, diem, diemStaking}, or `perdiem deploy --json` output',
  '                      (default: the contracts in .perdiem/state.json)',
  '  --private-key KEY   the holder key (or PERDIEM_PRIVATE_KEY; default: the demo wallet of `perdiem up`)',
  '  --home DIR          where state.json lives (default ./.perdiem)',
  '  --json              machine-readable output',
].join('\n');

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function homeDir(values: Values, io: CliIo): string {
  return path.resolve(io.cwd, stringOption(values, 'home') ?? '.perdiem');
}

export function loadState(values: Values, io: CliIo): StackState | undefined {
  return readStackState(homeDir(values, io));
}

function readContractsFile(file: string, io: CliIo): PerdiemContracts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path.resolve(io.cwd, file), 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read --contracts ${file}: ${(error as Error).message}`);
  }
  const candidate = (parsed as { contracts?: unknown }).contracts ?? parsed;
  const names = ['vvv', 'stakedVvv', 'diem', 'diemStaking'] as const;
  for (const name of names) {
    const address = (candidate as Record<string, unknown>)[name];
    if (typeof address !== 'string' || !isAddress(address)) {
      throw new UsageError(`--contracts ${file}: missing or bad address for ${name}`);
    }
  }
  return candidate as PerdiemContracts;
}

function privateKeyOf(values: Values, io: CliIo, state: StackState | undefined): Hex | undefined {
  const key = stringOption(values, 'private-key') ?? io.env.PERDIEM_PRIVATE_KEY ?? state?.demo?.privateKey;
  if (key === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError('--private-key must be a 0x-prefixed 32-byte hex key');
  return key as Hex;
}

export interface ChainSettings {
  rpcUrl: string;
  contracts: PerdiemContracts;
  privateKey: Hex | undefined;
  state: StackState | undefined;
}

export function chainSettings(values: Values, io: CliIo): ChainSettings {
  const state = loadState(values, io);
  const rpcUrl = stringOption(values, 'rpc') ?? state?.rpcUrl;
  if (rpcUrl === undefined) throw new UsageError('no RPC: pass --rpc URL or run `perdiem up` first');
  const file = stringOption(values, 'contracts');
  const contracts = file === undefined ? state?.contracts : readContractsFile(file, io);
  if (contracts === undefined) throw new UsageError('no contracts: pass --contracts FILE or run `perdiem up` first');
  return { rpcUrl, contracts, privateKey: privateKeyOf(values, io, state), state };
}

/** Asks the RPC for its chain id once, without retries, so that a dead endpoint fails fast and clearly. */
export async function probeRpc(rpcUrl: string): Promise<number> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: rpcProbeTimeoutMs }) });
  try {
    return await probe.getChainId();
  } catch (error) {
    const detail = error instanceof BaseError ? error.shortMessage : (error as Error).message;
    const code = rootCode(error);
    throw new Error(`cannot reach the RPC at ${rpcUrl}: ${detail.split('\n')[0]}${code ? ` (${code})` : ''}`);
  }
}

/** The innermost system error code (ECONNREFUSED, ENOTFOUND…) in a chain of causes. */
function rootCode(error: unknown): string | undefined {
  let code: string | undefined;
  for (let at = error as { cause?: unknown; code?: unknown } | undefined; at; at = at.cause as typeof at) {
    if (typeof at.code === 'string') code = at.code;
  }
  return code;
}

export interface ReadChain {
  client: PublicClient;
  contracts: PerdiemContracts;
  chainId: number;
  rpcUrl: string;
}

export async function openReadChain(settings: ChainSettings): Promise<ReadChain> {
  const chainId = await probeRpc(settings.rpcUrl);
  return {
    client: publicClientFor(chainFor(chainId, settings.rpcUrl)),
    contracts: settings.contracts,
    chainId,
    rpcUrl: settings.rpcUrl,
  };
}

/** The chain with a holder's wallet, for the verbs that send transactions. */
export async function openWalletChain(values: Values, io: CliIo): Promise<ChainContext & { address: Address }> {
  const settings = chainSettings(values, io);
  if (settings.privateKey === undefined) {
    throw new UsageError('no wallet: pass --private-key, set PERDIEM_PRIVATE_KEY or run `perdiem up` first');
  }
  const read = await openReadChain(settings);
  const account = privateKeyToAccount(settings.privateKey);
  const wallet = walletClientFor(read.client.chain, account);
  return { client: read.client, wallet, contracts: read.contracts, address: account.address };
}

const everyError = [...stakedVvvAbi, ...diemStakingAbi, ...diemAbi, ...vvvAbi].filter((item) => item.type === 'error');

/**
 * A revert as `Name(args)`, followed by what it means in words when `hint` (or the holder hints) knows the error.
 * actions.ts decodes against the called contract's ABI; a revert raised inside another contract
 * (VVV's ERC20InsufficientBalance during `stake`) is decoded here against all four.
 */
export function describeChainError(error: ChainActionError, hint?: RevertHint): string {
  const decoded = decodedRevert(error);
  if (decoded === undefined) return undecodedText(error);
  const text = `reverted: ${decoded.errorName}(${decoded.args.map(String).join(', ')})`;
  const words = hint?.(decoded.errorName, decoded.args) ?? holderRevertHint(decoded.errorName, decoded.args);
  return words === undefined ? text : `${text} — ${words}`;
}

function decodedRevert(error: ChainActionError): { errorName: string; args: readonly unknown[] } | undefined {
  if (error.errorName !== undefined) return { errorName: error.errorName, args: error.errorArgs };
  const cause = error.cause;
  if (!(cause instanceof BaseError)) return undefined;
  const reverted = cause.walk((inner) => inner instanceof ContractFunctionRevertedError);
  const raw = reverted instanceof ContractFunctionRevertedError ? reverted.raw : undefined;
  if (raw === undefined || raw === '0x') return undefined;
  try {
    const decoded = decodeErrorResult({ abi: everyError, data: raw });
    return { errorName: decoded.errorName, args: decoded.args ?? [] };
  } catch {
    return undefined;
  }
}

function undecodedText(error: ChainActionError): string {
  const cause = error.cause;
  if (cause instanceof BaseError) {
    const reverted = cause.walk((inner) => inner instanceof ContractFunctionRevertedError);
    const raw = reverted instanceof ContractFunctionRevertedError ? reverted.raw : undefined;
    if (raw !== undefined && raw !== '0x') return `reverted with unknown error data ${raw}`;
    const lower = cause.shortMessage.toLowerCase();
    if (lower.includes('http request failed') || lower.includes('fetch failed')) {
      return `lost the RPC: ${cause.shortMessage}`;
    }
  }
  return error.message;
}

/** Runs a chain action and turns its failure into a one-line error (exit 1), explained by `hint` where it can. */
export async function chainStep<T>(step: () => Promise<T>, hint?: RevertHint): Promise<T> {
  try {
    return await step();
  } catch (error) {
    // Reads that revert (quoteBurn, quoteMint) surface as viem errors rather than ChainActionError.
    const decoded =
      error instanceof ChainActionError ? error : error instanceof BaseError ? decodeChainError(error) : undefined;
    if (decoded) throw new Error(describeChainError(decoded, hint), { cause: error });
    throw error;
  }
}
