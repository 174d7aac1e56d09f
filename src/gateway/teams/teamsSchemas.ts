/**
 * Request schemas of the team routes (zod), strict like the others: an unknown or misspelt field is a 400 naming it.
 * Amounts are USD decimals (string or number) with at most 9 places, as in key limits.
 */
import { z } from 'zod';
import { amount, createKeySchema } from '../validate/schemas.ts';
import { alertThresholdsMax, teamNameCharsMax, webhookUrlCharsMax } from './limits.ts';

const name = z.string().trim().min(1, 'must not be empty').max(teamNameCharsMax);
const id = z.string().min(1, 'must not be empty').max(256);
const role = z.enum(['OWNER', 'ADMIN', 'MEMBER']);
const currency = z.enum(['DIEM', 'USD', 'TOTAL']);
const period = z.enum(['EPOCH', 'MONTH']);

export const createOrgSchema = z.strictObject({ name });

/** Exactly one of `accountId` and `wallet` (a linked wallet's address, resolved to its account). */
export const addMemberSchema = z.strictObject({
  accountId: id.optional(),
  wallet: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
    .optional(),
  role: role.default('MEMBER'),
});

export const updateMemberSchema = z.strictObject({ role });

export const createProjectSchema = z.strictObject({ name });

export const projectAdminSchema = z.strictObject({ accountId: id, admin: z.boolean().default(true) });

/** A project key: the API key body without its type (a project key is an INFERENCE key of the organization). */
export const createProjectKeySchema = createKeySchema
  .omit({ apiKeyType: true })
  .extend({ description: z.string().min(1).max(256).default('project key') });

export const setBudgetSchema = z.strictObject({
  /** A project id or an organization id. */
  scopeId: id,
  currency,
  period,
  /** USD; null removes the budget. */
  amount: amount.nullable(),
  /** Percentages 1–1000, ascending; default 50, 80, 100. */
  alertThresholds: z.array(z.int().min(1).max(1000)).min(1).max(alertThresholdsMax).optional(),
});

export const reallocateSchema = z.strictObject({
  fromProjectId: id,
  toProjectId: id,
  currency,
  period,
  amount,
});

export const addWebhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(webhookUrlCharsMax),
});

export const auditQuerySchema = z.strictObject({
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).optional(),
});
