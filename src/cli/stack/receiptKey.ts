/**
 * The key `perdiem up` signs receipts with: `--receipt-key`, else one it creates once and keeps in `home/receipt-key`
 * (mode 0600), so that a restart signs as the same address and old receipts still verify.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import type { ReceiptKeyConfig } from '../../gateway/receipts/receiptSigner.ts';
import type { StackConfig } from '../stackConfig.ts';

export function receiptKeyOf(config: Pick<StackConfig, 'home' | 'receiptKey'>, chainId: number): ReceiptKeyConfig {
  if (config.receiptKey) return { privateKey: config.receiptKey as Hex, chainId };
  const file = path.join(config.home, 'receipt-key');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (!/^0x[0-9a-fA-F]{64}$/.test(stored)) throw new Error(`${file} does not hold a 0x-prefixed 32-byte hex key`);
    return { privateKey: stored as Hex, chainId };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const privateKey = generatePrivateKey();
  // 'wx': a key another process wrote meanwhile is never overwritten (the home's pid lock makes that unlikely).
  writeFileSync(file, `${privateKey}\n`, { mode: 0o600, flag: 'wx' });
  return { privateKey, chainId };
}
