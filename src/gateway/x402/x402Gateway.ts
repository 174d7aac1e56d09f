/**
 * Wallet payments at the gateway, assembled: the routes under /api/v1/x402 and the authentication that lets a
 * wallet in without an API key. `createGateway` mounts `routes` and wraps its API-key auth with `auth`.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { createWalletAccounts } from '../identity/walletAccounts.ts';
import type { X402Config } from './config.ts';
import { createPaymentProcessor } from './payments.ts';
import { createTopUpHandler } from './topUp.ts';
import { walletAuthMiddleware } from './walletAuth.ts';
import { balanceHandler, transactionsHandler } from './walletRoutes.ts';

export interface X402Gateway {
  /** Mounted at /api/v1. */
  routes: Hono<GatewayEnv>;
  /** Wraps the API-key auth: a Bearer key, a wallet sign-in header, or a 402 that lists both. */
  auth(apiKeyAuth: MiddlewareHandler<GatewayEnv>): MiddlewareHandler<GatewayEnv>;
}

export function createX402Gateway(deps: GatewayDeps, config: X402Config): X402Gateway {
  const accounts = createWalletAccounts(deps.ledger);
  const routes = new Hono<GatewayEnv>();
  const payments = createPaymentProcessor({ config, ledger: deps.ledger, accounts });
  routes.post('/x402/top-up', createTopUpHandler(config, payments));
  routes.get('/x402/balance/:wallet', balanceHandler(deps, config, accounts));
  routes.get('/x402/transactions/:wallet', transactionsHandler(deps, config, accounts));
  return {
    routes,
    auth: (apiKeyAuth) => walletAuthMiddleware(deps, config, accounts, payments, apiKeyAuth),
  };
}
