/**
 * Deploys the perdiem contracts to any RPC and wires them together. Order: VVV → Diem → StakedVVV → DiemStaking →
 * PriceRegistry (owned by the operator, on DiemStaking's epochs), then VVV.setEmissionsMinter(StakedVVV) and Diem.setMinter(StakedVVV), each settable once. Before
 * anything is sent, StakedVVV's constructor is dry-run with the config, so settings it refuses cost nothing and leave
 * no half-deployed set behind.
 */
import {
  type Abi,
  type Account,
  type Address,
  BaseError,
  decodeErrorResult,
  encodeDeployData,
  type Hex,
  isHex,
} from 'viem';
import { daySeconds as daySecondsNumber, epochSecondsDefault } from '../core/epoch.ts';
import type { PublicClient, WalletClient } from './clients.ts';
import {
  diemAbi,
  diemBytecode,
  diemStakingAbi,
  diemStakingBytecode,
  priceRegistryAbi,
  priceRegistryBytecode,
  stakedVvvAbi,
  stakedVvvBytecode,
  vvvAbi,
  vvvBytecode,
} from './generated/contracts.ts';
import { receiptTimeoutMs } from './limits.ts';

export interface PerdiemContracts {
  vvv: Address;
  stakedVvv: Address;
  diem: Address;
  diemStaking: Address;
  /**
   * Where the operator anchors its price sheets (see `chain/priceRegistry.ts`). Absent for a deployment from before
   * the registry: the gateway then admits every sheet, as without a chain.
   */
  priceRegistry?: Address;
}

export interface DeployConfig {
  /**
   * May propose emission-rate changes (timelocked, bounded by the ceiling schedule), anchors price sheets in the
   * PriceRegistry, and hands ownership over (the new owner must accept); can never move a holder's tokens.
   */
  owner: Address;
  /** Receives the genesis VVV supply. */
  genesisHolder: Address;
  genesisSupplyWei: bigint;
  stakedVvv: {
    /** VVV per 365 days at launch; at most maxAnnualEmissionWei. */
    annualEmissionWei: bigint;
    /** The emission ceiling at launch (at most 2^128 - 1); emissions accrue at min(rate, ceiling). */
    maxAnnualEmissionWei: bigint;
    /** The ceiling falls by this fraction once per 365 days since deployment. */
    emissionDecayBps: bigint;
    /** One rate change moves the rate by at most this fraction of the ceiling. */
    maxEmissionChangeBps: bigint;
    /** Timelock between proposing a rate change and applying it (at most 365 days). */
    emissionChangeDelaySeconds: bigint;
    cooldownSeconds: bigint;
    lockedWeightBps: bigint;
    baseWad: bigint;
    powerWad: bigint;
    targetWei: bigint;
    /** Minting above this DIEM supply reverts (keeps the curve's exp far from overflow). */
    maxSupplyWei: bigint;
    /** Launch guard: for this long after deployment each address may mint at most launchMintCapWei DIEM (0 = off). */
    launchWindowSeconds: bigint;
    launchMintCapWei: bigint;
  };
  diemStaking: { epochSeconds: bigint; cooldownSeconds: bigint; minAllowanceWei: bigint };
}

const WAD = 10n ** 18n;
const daySeconds = BigInt(daySecondsNumber);

/**
 * The defaults of DESIGN.md: 10M VVV/yr under a ceiling of 14M/yr (Venice's launch rate) falling 15% a year, changes of
 * at most 20% of the ceiling after a 2-day timelock, 7-day sVVV cooldown, 80% locked weight, curve (90, 2, 38,000), no
 * launch guard, 1-day epochs.
 */
export function defaultDeployConfig(owner: Address, overrides: Partial<DeployConfig> = {}): DeployConfig {
  return {
    owner,
    genesisHolder: owner,
    genesisSupplyWei: 100_000_000n * WAD,
    stakedVvv: {
      annualEmissionWei: 10_000_000n * WAD,
      maxAnnualEmissionWei: 14_000_000n * WAD,
      emissionDecayBps: 1_500n,
      maxEmissionChangeBps: 2_000n,
      emissionChangeDelaySeconds: 2n * daySeconds,
      cooldownSeconds: 7n * daySeconds,
      lockedWeightBps: 8_000n,
      baseWad: 90n * WAD,
      powerWad: 2n * WAD,
      targetWei: 38_000n * WAD,
      maxSupplyWei: 100_000n * WAD,
      launchWindowSeconds: 0n,
      launchMintCapWei: 0n,
    },
    diemStaking: {
      epochSeconds: BigInt(epochSecondsDefault),
      cooldownSeconds: BigInt(epochSecondsDefault),
      minAllowanceWei: WAD / 10n,
    },
    ...overrides,
  };
}

/** StakedVVV's constructor refused the config: `errorName(errorArgs)` is its custom error (e.g. an emission bound). */
export class DeployConfigRejectedError extends Error {
  override readonly name = 'DeployConfigRejectedError';
  readonly errorName: string;
  readonly errorArgs: readonly unknown[];

  constructor(errorName: string, errorArgs: readonly unknown[], cause: unknown) {
    super(`reverted: ${errorName}(${errorArgs.map(String).join(', ')})`, { cause });
    this.errorName = errorName;
    this.errorArgs = errorArgs;
  }
}

/** Stand-ins for the VVV and DIEM addresses in the dry run: the constructor only checks that they are not zero. */
const placeholderToken: Address = '0x000000000000000000000000000000000000dEaD';

/**
 * Runs StakedVVV's constructor with `config` in an `eth_call` (nothing is sent). Throws DeployConfigRejectedError
 * with the decoded custom error when the constructor reverts; other failures (RPC down) propagate unchanged.
 */
export async function checkStakedVvvConfig(client: PublicClient, from: Account, config: DeployConfig): Promise<void> {
  const data = encodeDeployData({
    abi: stakedVvvAbi,
    bytecode: stakedVvvBytecode,
    args: [placeholderToken, placeholderToken, config.owner, config.stakedVvv],
  });
  try {
    await client.call({ account: from, data });
  } catch (error) {
    const decoded = decodeRevert(error);
    if (decoded === undefined) throw error;
    throw new DeployConfigRejectedError(decoded.errorName, decoded.args ?? [], error);
  }
}

/** The custom error in the revert data somewhere in a viem error's causes, when StakedVVV's ABI knows it. */
function decodeRevert(error: unknown) {
  if (!(error instanceof BaseError)) return undefined;
  let data: Hex | undefined;
  error.walk((inner) => {
    const candidate = (inner as { data?: unknown }).data;
    if (typeof candidate === 'string' && isHex(candidate) && candidate.length >= 10) data = candidate;
    return data !== undefined;
  });
  if (data === undefined) return undefined;
  try {
    return decodeErrorResult({ abi: stakedVvvAbi, data });
  } catch {
    return undefined;
  }
}

export async function deployPerdiem(
  wallet: WalletClient,
  client: PublicClient,
  config: DeployConfig,
): Promise<Required<PerdiemContracts>> {
  await checkStakedVvvConfig(client, wallet.account, config);
  const deploy = async (abi: Abi, bytecode: Hex, args: readonly unknown[]) => {
    const hash = await wallet.deployContract({ abi, bytecode, args });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deployment reverted: ${hash}`);
    return receipt.contractAddress;
  };
  const vvv = await deploy(vvvAbi, vvvBytecode, [config.owner, config.genesisHolder, config.genesisSupplyWei]);
  const diem = await deploy(diemAbi, diemBytecode, [config.owner]);
  const stakedVvv = await deploy(stakedVvvAbi, stakedVvvBytecode, [vvv, diem, config.owner, config.stakedVvv]);
  const { epochSeconds, cooldownSeconds, minAllowanceWei } = config.diemStaking;
  // DiemStaking has no owner: its parameters are fixed at deployment.
  const diemStaking = await deploy(diemStakingAbi, diemStakingBytecode, [
    diem,
    epochSeconds,
    cooldownSeconds,
    minAllowanceWei,
  ]);
  const priceRegistry = await deploy(priceRegistryAbi, priceRegistryBytecode, [config.owner, diemStaking]);

  const wire = async (hash: Hex) => {
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
    if (receipt.status !== 'success') throw new Error(`wiring transaction reverted: ${hash}`);
  };
  await wire(
    await wallet.writeContract({ address: vvv, abi: vvvAbi, functionName: 'setEmissionsMinter', args: [stakedVvv] }),
  );
  await wire(await wallet.writeContract({ address: diem, abi: diemAbi, functionName: 'setMinter', args: [stakedVvv] }));
  return { vvv, stakedVvv, diem, diemStaking, priceRegistry };
}
