/**
 * The ledger account behind a wallet: the one linked to it (so a wallet with staked DIEM spends its allowance
 * first), or a new account linked on first use — for the wallet key flow and for x402. Wallet-signed requests are metered under an internal INFERENCE
 * key of that account, named `x402-wallet`, with no limits: the request path stays the API-key path, and usage
 * history shows which requests came in by wallet.
 */
import type { Address } from 'viem';
import type { ApiKey, Ledger } from '../../ledger/types.ts';
import type { Principal } from '../env.ts';

export const walletKeyName = 'x402-wallet';

export interface WalletAccounts {
  /** The wallet's account id, created and linked on first use. */
  accountOf(address: Address): Promise<string>;
  /** The principal wallet-signed requests run as. */
  principalOf(address: Address): Promise<Principal>;
}

export function createWalletAccounts(ledger: Ledger): WalletAccounts {
  const accounts = new Map<string, Promise<string>>();
  const keys = new Map<string, Promise<ApiKey>>();

  // One creation per wallet at a time, so two first requests never make two accounts.
  function accountOf(address: Address): Promise<string> {
    const wallet = address.toLowerCase();
    let pending = accounts.get(wallet);
    if (!pending) {
      pending = (async () => {
        const existing = await ledger.accountByWallet(wallet);
        if (existing) return existing.id;
        const account = await ledger.createAccount({ name: address });
        await ledger.linkWallet(account.id, wallet);
        return account.id;
      })();
      pending.catch(() => accounts.delete(wallet));
      accounts.set(wallet, pending);
    }
    return pending;
  }

  function keyOf(accountId: string): Promise<ApiKey> {
    let pending = keys.get(accountId);
    if (!pending) {
      pending = (async () => {
        const existing = (await ledger.listKeys(accountId)).find(
          (key) => key.name === walletKeyName && key.kind === 'INFERENCE' && key.revokedAtMs === null,
        );
        if (existing) return existing;
        return (await ledger.createKey({ accountId, kind: 'INFERENCE', name: walletKeyName })).key;
      })();
      pending.catch(() => keys.delete(accountId));
      keys.set(accountId, pending);
    }
    return pending;
  }

  return {
    accountOf,
    async principalOf(address) {
      const accountId = await accountOf(address);
      return { key: await keyOf(accountId), accountId };
    },
  };
}
