/**
 * The wallet key flow, in Venice's shape: `GET /api_keys/generate_web3_key` hands out a short-lived token;
 * `POST /api_keys/generate_web3_key` takes the token signed by a wallet (EIP-191 over the token, or a SIWE message
 * carrying its nonce) and returns a new API key for the wallet's account, created and linked on first use.
 * Gated on a non-zero sVVV stake. No API key is needed for either call.
 */
import { Hono } from 'hono';
import type { Address } from 'viem';
import { z } from 'zod';
import type { Clock } from '../../core/epoch.ts';
import { AuthenticationError, PermissionError } from '../../core/errors.ts';
import type { Ledger } from '../../ledger/types.ts';
import type { GatewayEnv } from '../env.ts';
import { limitsOf } from '../keys/keyLimits.ts';
import { expiresOf, keyView } from '../routes/keys.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { createKeySchema } from '../validate/schemas.ts';
import { createWalletAccounts } from './walletAccounts.ts';
import { type VerifyMessage, verifyWalletProof } from './walletProof.ts';
import { issueWalletToken, type NonceStore, readWalletToken } from './walletToken.ts';

export interface WalletKeyDeps {
  ledger: Ledger;
  clock: Clock;
  /** HMAC key for tokens; keep it across restarts of one deployment, share it between replicas. */
  tokenSecret: Uint8Array;
  nonces: NonceStore;
  /** What a SIWE message must name: this gateway's host and the chain it reads stakes from. */
  domain: string;
  chainId: number;
  verifyMessage: VerifyMessage;
  /** The wallet's sVVV stake in wei (StakedVVV.stakedOf). */
  svvvStakeOf: (address: Address) => Promise<bigint>;
  /** Told of every wallet that got a key, so its on-chain allowance can be fed to the ledger. */
  onWalletLinked?: (wallet: { accountId: string; address: Address }) => Promise<void>;
}

export const generateWeb3KeySchema = createKeySchema.extend({
  address: z.string().min(1),
  signature: z.string().min(1),
  token: z.string().min(1),
  message: z.string().min(1).optional(),
});

export function walletKeyRoutes(deps: WalletKeyDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const accounts = createWalletAccounts(deps.ledger);

  app.get('/api_keys/generate_web3_key', (c) => {
    const { token } = issueWalletToken(deps.tokenSecret, deps.clock());
    return c.json({ success: true, data: { token } });
  });

  app.post('/api_keys/generate_web3_key', async (c) => {
    const body = parseWith(generateWeb3KeySchema, await readJsonBody(c));
    const nowMs = deps.clock();
    const token = readWalletToken(deps.tokenSecret, body.token, nowMs);
    const expectations = { domain: deps.domain, chainId: deps.chainId, nonce: token.nonce, nowMs };
    const address = await verifyWalletProof(body, expectations, deps.verifyMessage);
    // Validate everything that can fail on input before the nonce is spent.
    const expiresAtMs = expiresOf(body.expiresAt, nowMs);
    const limits = limitsOf(body);
    if ((await deps.svvvStakeOf(address)) === 0n) {
      throw new PermissionError(`wallet ${address} has no sVVV stake; stake VVV to create a key`, {
        code: 'no_svvv_stake',
        param: 'address',
      });
    }
    if (!(await deps.nonces.consume(token.nonce, token.expiresAtMs, nowMs))) {
      throw new AuthenticationError('wallet token was already used; request a new one', {
        code: 'token_used',
        param: 'token',
      });
    }
    const accountId = await accounts.accountOf(address);
    const created = await deps.ledger.createKey({
      accountId,
      kind: body.apiKeyType,
      name: body.description,
      ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
      ...(body.allowedModels === undefined ? {} : { allowedModels: body.allowedModels }),
      ...(limits === undefined ? {} : { limits }),
    });
    await deps.onWalletLinked?.({ accountId, address });
    return c.json({ success: true, data: { ...keyView(created.key), apiKey: created.secret } }, 201);
  });

  return app;
}
