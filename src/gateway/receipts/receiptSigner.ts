/** The gateway operator's receipt key: signs the receipt of each charge (see core/receipt.ts). */
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  type ChargeRecord,
  type ReceiptDomain,
  receiptDomain,
  receiptOf,
  type SignedReceipt,
} from '../../core/receipt.ts';
import { receiptDigester } from '../../core/receiptDigest.ts';

export interface ReceiptSigner {
  readonly address: Address;
  readonly domain: ReceiptDomain;
  sign(charge: ChargeRecord): Promise<SignedReceipt>;
}

export interface ReceiptKeyConfig {
  privateKey: Hex;
  /** The chain the gateway's DIEM lives on: the EIP-712 domain's chainId. */
  chainId: number;
}

export function createReceiptSigner(config: ReceiptKeyConfig): ReceiptSigner {
  const account = privateKeyToAccount(config.privateKey);
  const domain = receiptDomain(config.chainId);
  const digest = receiptDigester(domain);
  return {
    address: account.address,
    domain,
    async sign(charge) {
      const receipt = receiptOf(charge);
      // The same signature as account.signTypedData(receiptTypedData(domain, receipt)), without its generic encoding.
      const signature = await account.sign({ hash: digest(receipt) });
      return { receipt, signature, signer: account.address, domain };
    },
  };
}
