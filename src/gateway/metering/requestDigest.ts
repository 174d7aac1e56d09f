/**
 * The digest an Idempotency-Key is bound to: the route (the same under /v1 and /api/v1) and the validated body. The
 * validated body lists its fields in the schema's order, so two JSON texts that differ only in field order or spacing
 * are the same request.
 */
import { hash } from 'node:crypto';

export function requestDigest(path: string, validatedBody: unknown): string {
  const route = path.replace(/^\/api\/v1\//, '/v1/');
  return hash('sha256', `${route}\n${JSON.stringify(validatedBody)}`, 'hex');
}
