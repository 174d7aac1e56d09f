/**
 * The PriceRegistry contract from TypeScript: the operator anchors a price sheet's hash and URI for an epoch that has
 * not begun (`anchorSheet`), and anyone reads an epoch's anchor (`readAnchor`). Epochs are numbers here, as in
 * `core/epoch.ts`; the contract's epochs are DiemStaking's.
 */
import type { Address, Hex } from 'viem';
import type { SheetHash } from '../core/priceSheetHash.ts';
import { decodeChainError } from './actions.ts';
import type { PublicClient, WalletClient } from './clients.ts';
import { priceRegistryAbi } from './generated/contracts.ts';
import { receiptTimeoutMs } from './limits.ts';

export interface SheetAnchor {
  epoch: number;
  /** Zero (`zeroSheetHash`) when the epoch was never anchored. */
  hash: SheetHash;
  uri: string;
  /** Unix seconds of the block that anchored this hash for the epoch; 0 when never anchored. */
  anchoredAtSeconds: number;
  anchoredBlock: bigint;
}

export const zeroSheetHash: SheetHash = `0x${'0'.repeat(64)}`;

export function isAnchored(anchor: SheetAnchor): boolean {
  return anchor.hash !== zeroSheetHash;
}

/**
 * Anchors `hash` (served at `uri`) for `epoch` and waits for the receipt. A refusal is simulated first and thrown as
 * a ChainActionError naming the PriceRegistry error and its values (e.g. PriceRegistryEpochStarted(epoch, current)).
 */
export async function anchorSheet(
  wallet: WalletClient,
  client: PublicClient,
  registry: Address,
  anchor: { epoch: number; hash: SheetHash; uri: string },
): Promise<Hex> {
  let hash: Hex;
  try {
    const { request } = await client.simulateContract({
      account: wallet.account,
      address: registry,
      abi: priceRegistryAbi,
      functionName: 'anchor',
      args: [BigInt(anchor.epoch), anchor.hash, anchor.uri],
    });
    hash = await wallet.writeContract(request);
  } catch (error) {
    throw decodeChainError(error);
  }
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
  if (receipt.status !== 'success') throw new Error(`anchor transaction reverted: ${hash}`);
  return hash;
}

/** The registry's epoch length, its current epoch (by the chain's time) and its owner. */
export async function readRegistryClock(client: PublicClient, registry: Address) {
  const read = <F extends 'epochSeconds' | 'currentEpoch'>(functionName: F) =>
    client.readContract({ address: registry, abi: priceRegistryAbi, functionName });
  const [epochSeconds, currentEpoch, deploymentEpoch, owner] = await Promise.all([
    read('epochSeconds'),
    read('currentEpoch'),
    client.readContract({ address: registry, abi: priceRegistryAbi, functionName: 'deploymentEpoch' }),
    client.readContract({ address: registry, abi: priceRegistryAbi, functionName: 'owner' }),
  ]);
  return {
    epochSeconds: Number(epochSeconds),
    currentEpoch: Number(currentEpoch),
    deploymentEpoch: Number(deploymentEpoch),
    owner,
  };
}

export async function readAnchor(client: PublicClient, registry: Address, epoch: number): Promise<SheetAnchor> {
  const [hash, uri, anchoredAt, anchoredBlock] = await client.readContract({
    address: registry,
    abi: priceRegistryAbi,
    functionName: 'anchorOf',
    args: [BigInt(epoch)],
  });
  return { epoch, hash: hash as SheetHash, uri, anchoredAtSeconds: Number(anchoredAt), anchoredBlock };
}

/** The epoch the registry was deployed in: no sheet taking effect in it or before it can be anchored. */
export async function readDeploymentEpoch(client: PublicClient, registry: Address): Promise<number> {
  return Number(
    await client.readContract({ address: registry, abi: priceRegistryAbi, functionName: 'deploymentEpoch' }),
  );
}
