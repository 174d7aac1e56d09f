/**
 * The calling account's wallets, for any API key of the account:
 *   - `GET /wallets`: the linked wallets, oldest link first;
 *   - `GET /wallets/link`: a short-lived token for linking one more, naming this account;
 *   - `POST /wallets/link` `{address, signature, token, message?}`: the token signed by the new wallet, as in the wallet
 *     key flow (EIP-191 over the token, or a SIWE message carrying its nonce, domain and chain id checked).
 * The account's allowance is the sum over its wallets, and the allowance feed is told of a new wallet at once.
 * The same routes under `/orgs/:org/wallets` serve an organization's funding account (teams/): its members read them,
 * its owners and admins link, and a treasury's on-chain allocation to a wallet linked there funds the organization.
 *
 * A wallet belongs to one account for good: one linked to another account is refused (409 `wallet_linked`), and there
 * is no unlink. Unlinked mid-epoch and linked to a second account, a wallet's staked DIEM would back both in that
 * epoch. A token names the account that asked for it, so a signature obtained for one account links to no other.
 * Every refusal is decided before the token is spent and leaves the ledger as it was; only a link of the same wallet
 * to another account made meanwhile, found at the write, is refused after it.
 */
import { type Context, Hono } from 'hono';
import { type Address, getAddress } from 'viem';
import { z } from 'zod';
import { AuthenticationError, ConflictError, InvalidRequestError, PermissionError } from '../../core/errors.ts';
import type { WalletLink } from '../../ledger/types.ts';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { parseWith, readJsonBody } from '../validate/body.ts';
import { linkedWalletsPerAccountMax } from './limits.ts';
import type { WalletKeyDeps } from './walletKeyRoutes.ts';
import { verifyWalletProof } from './walletProof.ts';
import { issueWalletToken, readWalletToken } from './walletToken.ts';

/** What linking needs: the wallet key flow's token secret, nonces and proof checks, and its feed hook. */
export type WalletLinkDeps = Pick<
  WalletKeyDeps,
  'tokenSecret' | 'nonces' | 'domain' | 'chainId' | 'verifyMessage' | 'onWalletLinked'
>;

export const linkWalletSchema = z.object({
  address: z.string().min(1),
  signature: z.string().min(1),
  token: z.string().min(1),
  /** A SIWE message carrying the token's nonce; when absent, the signature is over the token text (EIP-191). */
  message: z.string().min(1).optional(),
});

export function walletView(link: WalletLink) {
  return { address: getAddress(link.address), linkedAt: new Date(link.linkedAtMs).toISOString() };
}

/**
 * Whose wallets a route serves: the calling account's, or (under `/orgs/:org`) an organization's funding account.
 * `manage` asks for the right to link, which an organization gives its owners and admins only.
 */
type WalletOwnerOf = (c: Context<GatewayEnv>, manage: boolean) => Promise<string>;

const callerAccount: WalletOwnerOf = async (c) => c.get('principal').accountId;

/**
 * An organization's funding account, for its members (reading) or its owners and admins (linking). Allowance
 * allocated on chain to a wallet linked here funds the organization. Anyone else gets the organization's 404.
 */
function orgAccount(deps: GatewayDeps): WalletOwnerOf {
  return async (c, manage) => {
    const actor = c.get('principal').accountId;
    const orgId = c.req.param('org') ?? '';
    const org = await deps.ledger.getOrg(actor, orgId);
    if (manage) {
      const members = await deps.ledger.listMembers(actor, orgId);
      const role = members.find((m) => m.accountId === actor)?.role;
      if (role !== 'OWNER' && role !== 'ADMIN') {
        throw new PermissionError("only an organization's owners and admins link its wallets", {
          code: 'forbidden',
          param: null,
        });
      }
    }
    return org.accountId;
  };
}

/**
 * The wallet routes of the calling account (`/wallets…`) and of an organization (`/orgs/:org/wallets…`); without
 * `link` (no wallet sign-in configured) only the lists exist.
 */
export function accountWalletRoutes(deps: GatewayDeps, link: WalletLinkDeps | null): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.route('/wallets', walletRoutes(deps, link, callerAccount));
  app.route('/orgs/:org/wallets', walletRoutes(deps, link, orgAccount(deps)));
  return app;
}

function walletRoutes(deps: GatewayDeps, link: WalletLinkDeps | null, ownerOf: WalletOwnerOf): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get('/', async (c) => {
    const wallets = await deps.ledger.walletsOfAccount(await ownerOf(c, false));
    return c.json({ object: 'list', data: wallets.map(walletView) });
  });
  if (!link) return app;

  app.get('/link', async (c) => {
    const { token, payload } = issueWalletToken(link.tokenSecret, deps.clock(), await ownerOf(c, true));
    return c.json({
      success: true,
      data: {
        token,
        expiresAt: new Date(payload.expiresAtMs).toISOString(),
        domain: link.domain,
        chainId: link.chainId,
      },
    });
  });

  app.post('/link', async (c) => {
    const accountId = await ownerOf(c, true);
    const body = parseWith(linkWalletSchema, await readJsonBody(c));
    const nowMs = deps.clock();
    const token = readWalletToken(link.tokenSecret, body.token, nowMs, accountId);
    const expectations = { domain: link.domain, chainId: link.chainId, nonce: token.nonce, nowMs };
    const address = await verifyWalletProof(body, expectations, link.verifyMessage);
    // Everything that can be refused is checked before the nonce is spent.
    const owner = await deps.ledger.accountByWallet(address);
    if (owner !== null && owner.id !== accountId) {
      throw new ConflictError(`wallet ${address} is linked to another account`, {
        code: 'wallet_linked',
        param: 'address',
      });
    }
    await checkRoomForWallet(deps, accountId, owner === null);
    if (!(await link.nonces.consume(token.nonce, token.expiresAtMs, nowMs))) {
      throw new AuthenticationError('wallet token was already used; request a new one', {
        code: 'token_used',
        param: 'token',
      });
    }
    // A concurrent link of the same wallet to another account is refused here (409), as above.
    if (owner === null) await deps.ledger.linkWallet(accountId, address);
    await feed(deps, link, { accountId, address });
    const view = (await deps.ledger.walletsOfAccount(accountId)).find(
      (wallet) => wallet.address === address.toLowerCase(),
    );
    return c.json({ success: true, data: walletView(view!) }, owner === null ? 201 : 200);
  });

  return app;
}

async function checkRoomForWallet(deps: GatewayDeps, accountId: string, isNew: boolean): Promise<void> {
  const linked = await deps.ledger.walletsOfAccount(accountId);
  if (isNew && linked.length >= linkedWalletsPerAccountMax) {
    throw new InvalidRequestError(`an account links at most ${linkedWalletsPerAccountMax} wallets`, {
      code: 'too_many_wallets',
      param: 'address',
    });
  }
}

/**
 * Tells the allowance feed of the wallet, so the balance shows its allowance at once. The link stands when the chain
 * cannot be read now: the feed's timer picks up every linked wallet.
 */
async function feed(deps: GatewayDeps, link: WalletLinkDeps, wallet: { accountId: string; address: Address }) {
  try {
    await link.onWalletLinked?.(wallet);
  } catch (error) {
    deps.logger.warn({ err: error, address: wallet.address }, 'linked wallet: allowance not read yet');
  }
}
