/** The team routes in /openapi.json, with request bodies from the zod schemas that validate them. */
import type { z } from 'zod';
import { linkWalletSchema } from '../identity/accountWalletRoutes.ts';
import {
  addMemberSchema,
  addWebhookSchema,
  createOrgSchema,
  createProjectKeySchema,
  createProjectSchema,
  projectAdminSchema,
  reallocateSchema,
  setBudgetSchema,
  updateMemberSchema,
} from './teamsSchemas.ts';

type Op = (summary: string, body?: z.ZodType) => unknown;

/** `op` is openapi.ts's operation builder (bearer: an API key of a member's account). */
export function teamsPaths(op: Op): Record<string, unknown> {
  const admin = (summary: string) => `${summary} (ADMIN key)`;
  return {
    '/api/v1/orgs': {
      get: op('The organizations the calling account belongs to, oldest first'),
      post: op(
        admin('Create an organization with its own funding account; the caller becomes its OWNER'),
        createOrgSchema,
      ),
    },
    '/api/v1/orgs/{org}': {
      get: op(
        'The organization tree: members, organization and project budgets with what was spent, reserved and is left this period (USD decimals), spend per scope, key ids',
      ),
    },
    '/api/v1/orgs/{org}/members': {
      get: op('Members and their roles (OWNER, ADMIN, MEMBER)'),
      post: op(
        admin('Add a member by accountId or by a wallet the member linked; role defaults to MEMBER'),
        addMemberSchema,
      ),
    },
    '/api/v1/orgs/{org}/members/{account}': {
      patch: op(admin("Change a member's role"), updateMemberSchema),
      delete: op(admin('Remove a member; the project keys it made are revoked at once (revokedKeys)')),
    },
    '/api/v1/orgs/{org}/wallets': {
      get: op(
        "The wallets linked to the organization's funding account; their on-chain allowance (and what treasuries allocate to them) funds it",
      ),
    },
    '/api/v1/orgs/{org}/wallets/link': {
      get: op(
        'A short-lived token naming the organization account, for the wallet to link to sign (owners and admins)',
      ),
      post: op(
        "Link the wallet that signed the token to the organization's funding account (owners and admins)",
        linkWalletSchema,
      ),
    },
    '/api/v1/orgs/{org}/projects': {
      get: op('Projects of the organization with their admins'),
      post: op(admin('Create a project'), createProjectSchema),
    },
    '/api/v1/projects/{project}/admins': {
      post: op(admin('Make a member an admin of the project, or not (admin: false)'), projectAdminSchema),
    },
    '/api/v1/projects/{project}/keys': {
      post: op(
        admin(
          "Create an INFERENCE key of the organization in the project; it spends against the project's and the organization's budgets. The secret (apiKey) is shown once",
        ),
        createProjectKeySchema,
      ),
    },
    '/api/v1/budgets': {
      put: op(
        admin(
          'Set the budget of a project or organization (scopeId) per currency (DIEM, USD, TOTAL) and period (EPOCH, MONTH), in USD; amount null removes it. alertThresholds default to 50, 80, 100 percent',
        ),
        setBudgetSchema,
      ),
    },
    '/api/v1/orgs/{org}/reallocations': {
      post: op(
        admin(
          'Move unused budget (at most what the source project has left this period) from one project to another, atomically',
        ),
        reallocateSchema,
      ),
    },
    ...auditAndAlertPaths(op, admin),
  };
}

function auditAndAlertPaths(op: Op, admin: (summary: string) => string): Record<string, unknown> {
  return {
    '/api/v1/orgs/{org}/audit': {
      get: op(
        'The append-only audit log, oldest first: who changed what, before and after; ?afterId=&limit= (at most 1000)',
      ),
    },
    '/api/v1/orgs/{org}/alerts': {
      get: op(
        'Budget alerts, newest first, with the delivery state of each to each webhook (delivered, pending, failed)',
      ),
    },
    '/api/v1/orgs/{org}/webhooks': {
      get: op('Webhooks that receive the alerts'),
      post: op(admin('Add a webhook; the HMAC-SHA256 signing secret is shown once'), addWebhookSchema),
      delete: op(admin('Remove a webhook, ?id=')),
    },
    '/api/v1/orgs/{org}/webhooks/{webhook}': { delete: op(admin('Remove a webhook')) },
  };
}
