/**
 * Finding a payment's settlement on chain after the fact: when a client resubmits a payment whose authorization
 * is already used (it was settled, but the answer or the credit was lost to a timeout or a crash), the
 * `AuthorizationUsed(payer, nonce)` event and a `Transfer(payer → payTo)` in the same transaction prove it was paid
 * to us, and for how much. A cancelled authorization has no such transfer and credits nothing.
 */
import { type Address, getAddress, type Hex, isAddressEqual, parseEventLogs } from 'viem';
import type { PublicClient } from '../../chain/clients.ts';
import { testUsdcAbi } from '../../chain/generated/contracts.ts';
import { settledLookbackBlocks } from './limits.ts';

export interface FoundSettlement {
  transaction: Hex;
  /** Token units moved to payTo. */
  value: bigint;
}

export async function findSettlement(
  client: PublicClient,
  query: { asset: Address; payer: Address; nonce: Hex; payTo: Address },
): Promise<FoundSettlement | null> {
  // Uncached: viem caches the block number for its polling interval, which would miss a settlement just mined.
  const latest = await client.getBlockNumber({ cacheTime: 0 });
  const logs = await client.getContractEvents({
    address: query.asset,
    abi: testUsdcAbi,
    eventName: 'AuthorizationUsed',
    args: { authorizer: query.payer, nonce: query.nonce },
    fromBlock: latest > settledLookbackBlocks ? latest - settledLookbackBlocks : 0n,
    toBlock: 'latest',
  });
  for (const log of logs) {
    const receipt = await client.getTransactionReceipt({ hash: log.transactionHash });
    if (receipt.status !== 'success') continue;
    const transfers = parseEventLogs({ abi: testUsdcAbi, eventName: 'Transfer', logs: receipt.logs }).filter(
      (transfer) =>
        isAddressEqual(transfer.address, query.asset) &&
        isAddressEqual(transfer.args.from, query.payer) &&
        isAddressEqual(transfer.args.to, getAddress(query.payTo)),
    );
    const transfer = transfers[0];
    if (transfer) return { transaction: log.transactionHash, value: transfer.args.value };
  }
  return null;
}
