/** /openapi.json: the routes, with request bodies generated from the same zod schemas that validate them. */
import { z } from 'zod';
import { pricePaths } from '../admin/pricesOpenApi.ts';
import { linkWalletSchema } from '../identity/accountWalletRoutes.ts';
import { generateWeb3KeySchema } from '../identity/walletKeyRoutes.ts';
import { requestKinds } from '../kinds/requestKinds.ts';
import { teamsPaths } from '../teams/teamsOpenApi.ts';
import { createKeySchema, updateKeySchema } from '../validate/schemas.ts';

const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        code: { type: 'string' },
        param: { type: ['string', 'null'] },
      },
      required: ['message', 'type', 'code', 'param'],
    },
  },
};

function schemaOf(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}

/** `security` null: a route that takes no bearer. */
function op(summary: string, body?: z.ZodType, security: string | null = 'apiKey') {
  return {
    summary,
    security: security === null ? [] : [{ [security]: [] }],
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(body) } } } } : {}),
    responses: {
      '200': { description: 'OK' },
      default: {
        description: 'OpenAI-shaped error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
}

export function openApiDocument(): unknown {
  const inference: Record<string, unknown> = {};
  for (const kind of Object.values(requestKinds)) inference[kind.path] = { post: op(kind.summary, kind.schema) };
  inference['/models'] = { get: op('Models with model_spec.pricing') };
  inference['/prices/sheets'] = {
    get: op('The price sheets the gateway holds: hash and effectiveFrom', undefined, null),
  };
  inference['/prices/sheets/{hash}'] = {
    get: op("A price sheet's canonical JSON by its keccak256 (the URI anchored in the PriceRegistry)", undefined, null),
  };
  const paths: Record<string, unknown> = {};
  for (const prefix of ['/v1', '/api/v1']) {
    for (const [path, item] of Object.entries(inference)) paths[`${prefix}${path}`] = item;
  }
  Object.assign(paths, {
    '/api/v1/billing/balance': { get: op('Balance (DIEM allowance, credits, USD)') },
    '/api/v1/billing/usage-history': { get: op('Usage history, cursor-paginated; CSV with Accept: text/csv') },
    '/api/v1/billing/usage-analytics': { get: op('Usage by day, model and key') },
    '/api/v1/receipts/{requestId}': {
      get: op(
        "The signed receipt of one of this account's charges: {receipt, signature, signer, domain}, EIP-712 typed data (domain perdiem/1 on the gateway's chain) the operator's receipt key signed; the same receipt the answer carried in its x-perdiem-receipt header or final SSE chunk. 404 receipt_not_found for another account's request or one not charged",
      ),
    },
    '/api/v1/api_keys': {
      get: op('List API keys'),
      post: op('Create an API key (ADMIN key)', createKeySchema),
      patch: op('Update an API key (ADMIN key)', updateKeySchema),
      delete: op('Revoke an API key (ADMIN key), ?id='),
    },
    '/api/v1/api_keys/rate_limits': { get: op('Rate limits and remaining capacity of this key') },
    '/api/v1/api_keys/generate_web3_key': {
      get: op('A short-lived token for the wallet key flow (no API key)', undefined, null),
      post: op(
        "An API key for the wallet that signed the token (EIP-191 over it, or a SIWE message with its nonce); the wallet's account is created on first use (no API key)",
        generateWeb3KeySchema,
        null,
      ),
    },
    '/api/v1/wallets': { get: op("The account's linked wallets, oldest link first, with linkedAt") },
    '/api/v1/wallets/link': {
      get: op('A short-lived token naming this account, for the wallet to link to sign'),
      post: op(
        "Link the wallet that signed the token (EIP-191 over it, or a SIWE message with its nonce); its on-chain allowance adds to the account's. 409 wallet_linked when another account holds the wallet; there is no unlink",
        linkWalletSchema,
      ),
    },
    '/admin/models': { get: op('Served models, providers and prices', undefined, 'operator') },
    ...pricePaths((summary, body) => op(summary, body, 'operator')),
    '/admin/providers': { get: op('Providers and their health', undefined, 'operator') },
    '/admin/measurements': {
      get: op(
        'Measured compute per (model, provider, kind): engine-seconds per prompt and output token and per image, samples, CU at the provider rate (decimal strings), and the predecessor a model inherits from',
        undefined,
        'operator',
      ),
    },
    '/admin/accounts': { post: op('Create an account and its first ADMIN key', undefined, 'operator') },
    '/admin/accounts/{id}/credits': { post: op('Grant credits or USD once per reference', undefined, 'operator') },
    '/admin/accounts/{id}/diem-allowance': {
      put: op(
        "Set an account's direct DIEM allowance of an epoch (added to its linked wallets' on-chain allowances)",
        undefined,
        'operator',
      ),
    },
    ...teamsPaths(op),
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain' } } } },
    '/healthz': { get: { summary: 'Liveness and provider health', responses: { '200': { description: 'OK' } } } },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'perdiem gateway', version: '0.1.0' },
    paths,
    components: {
      schemas: { Error: error },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer' },
        operator: { type: 'http', scheme: 'bearer' },
      },
    },
  };
}
