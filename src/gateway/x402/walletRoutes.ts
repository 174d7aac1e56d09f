/**
 * The wallet's own views, each signed by that wallet (`X-Sign-In-With-X`): `GET /x402/balance/{wallet}` and
 * `GET /x402/transactions/{wallet}` (top-ups and charges, newest first).
 */
import type { Context } from 'hono';
import { type Address, getAddress, isAddressEqual } from 'viem';
import { AuthenticationError, InvalidRequestError, PermissionError } from '../../core/errors.ts';
import { formatUsd } from '../../core/money.ts';
import type { UsageRecord } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import type { WalletAccounts } from '../identity/walletAccounts.ts';
import { checkedAddress } from '../identity/walletProof.ts';
import { balanceOf } from '../middleware/balance.ts';
import type { X402Config } from './config.ts';
import { transactionsPageMax } from './limits.ts';
import { signInHeaderOf } from './signIn.ts';
import { signInWallet } from './walletAuth.ts';

type C = Context<GatewayEnv>;

async function signedInAs(deps: GatewayDeps, config: X402Config, accounts: WalletAccounts, c: C): Promise<Address> {
  const wallet = checkedAddress(c.req.param('wallet') ?? '');
  const header = signInHeaderOf((name) => c.req.header(name));
  if (header === undefined) {
    throw new AuthenticationError('sign this request with the wallet (X-Sign-In-With-X)', { code: 'missing_sign_in' });
  }
  const address = await signInWallet(deps, config, accounts, c, header);
  if (!isAddressEqual(address, wallet)) {
    throw new PermissionError(`signed in as ${address}, not ${wallet}`, { code: 'wallet_mismatch', param: 'wallet' });
  }
  return address;
}

export function balanceHandler(deps: GatewayDeps, config: X402Config, accounts: WalletAccounts) {
  return async (c: C) => {
    const wallet = await signedInAs(deps, config, accounts, c);
    const balance = await balanceOf(deps, c);
    return c.json({
      success: true,
      data: {
        walletAddress: wallet,
        balanceUsd: formatUsd(balance.usd.availableNano),
        balances: {
          usd: formatUsd(balance.usd.availableNano),
          diem: formatUsd(balance.diem.availableNano),
          credits: formatUsd(balance.credits.availableNano),
        },
        canConsume:
          balance.usd.availableNano > 0n || balance.diem.availableNano > 0n || balance.credits.availableNano > 0n,
        nextEpochBegins: balance.nextEpochBegins,
      },
    });
  };
}

export interface WalletTransaction {
  type: 'TOP_UP' | 'CHARGE';
  /** Positive for a top-up, negative for a charge. */
  amountUsd: string;
  createdAt: string;
  source: string;
  model?: string;
  requestId?: string;
}

/** One CHARGE per request: its usage lines (input, output, …) summed. */
function chargesOf(records: UsageRecord[]): (WalletTransaction & { at: number })[] {
  const byRequest = new Map<string, WalletTransaction & { at: number; nano: bigint }>();
  for (const record of records) {
    const known = byRequest.get(record.requestId);
    if (known) {
      known.nano += record.amountNano;
      continue;
    }
    byRequest.set(record.requestId, {
      type: 'CHARGE',
      amountUsd: '',
      createdAt: new Date(record.createdAtMs).toISOString(),
      source: record.source,
      model: record.model,
      requestId: record.requestId,
      at: record.createdAtMs,
      nano: record.amountNano,
    });
  }
  return [...byRequest.values()].map(({ nano, ...charge }) => ({ ...charge, amountUsd: formatUsd(-nano) }));
}

export function transactionsHandler(deps: GatewayDeps, config: X402Config, accounts: WalletAccounts) {
  return async (c: C) => {
    const wallet = await signedInAs(deps, config, accounts, c);
    const limit = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > transactionsPageMax) {
      throw new InvalidRequestError(`limit is 1 to ${transactionsPageMax}`, { code: 'invalid_value', param: 'limit' });
    }
    const accountId = c.get('principal').accountId;
    const [topUps, usage] = await Promise.all([
      deps.ledger.fundings({ accountId, source: 'USD', limit }),
      deps.ledger.usageHistory({ accountId, limit }),
    ]);
    const items: (WalletTransaction & { at: number })[] = [
      ...topUps.map((entry) => ({
        type: 'TOP_UP' as const,
        amountUsd: formatUsd(entry.amountNano),
        createdAt: new Date(entry.createdAtMs).toISOString(),
        source: 'USD',
        at: entry.createdAtMs,
      })),
      ...chargesOf(usage.items),
    ];
    items.sort((a, b) => b.at - a.at);
    return c.json({
      success: true,
      data: {
        walletAddress: getAddress(wallet),
        transactions: items.slice(0, limit).map(({ at: _, ...item }) => item),
      },
    });
  };
}
