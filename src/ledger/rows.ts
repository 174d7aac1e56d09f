/** Row → domain object mappers shared by the SQLite and PostgreSQL adapters (both return bigint money columns). */
import type {
  ApiKey,
  FundingSource,
  KeyLimit,
  KeyRateLimits,
  Reservation,
  ReservationStatus,
  UsageRecord,
} from './types.ts';

export type Row = Record<string, unknown>;

export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function nullableBig(value: unknown): bigint | null {
  return value === null || value === undefined ? null : (value as bigint);
}

export function toReservation(row: Row): Reservation {
  return {
    id: String(row.id),
    accountId: row.account_id as string,
    keyId: (row.key_id as string | null) ?? null,
    idempotencyKey: row.idempotency_key as string,
    // Reservations made before request ids were recorded used the idempotency key as the request id.
    requestId: (row.request_id as string | null) ?? (row.idempotency_key as string),
    requestHash: (row.request_hash as string | null) ?? null,
    owner: (row.owner as string | null) ?? null,
    model: row.model as string,
    source: row.source as FundingSource,
    epoch: Number(row.epoch),
    month: row.month as string,
    amountNano: row.amount_nano as bigint,
    status: row.status as ReservationStatus,
    chargedNano: nullableBig(row.charged_nano),
    lossNano: nullableBig(row.loss_nano),
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    finishedAtMs: nullableNumber(row.finished_at_ms),
  };
}

export function toUsage(row: Row): UsageRecord {
  return {
    id: String(row.id),
    reservationId: row.reservation_id as string,
    requestId: row.request_id as string,
    accountId: row.account_id as string,
    keyId: (row.key_id as string | null) ?? null,
    model: row.model as string,
    sku: row.sku as string,
    units: Number(row.units),
    unitPriceNano: row.unit_price_nano as bigint,
    priceUnit: Number(row.price_unit),
    listAmountNano: row.list_amount_nano as bigint,
    amountNano: row.amount_nano as bigint,
    currency: row.currency as UsageRecord['currency'],
    source: row.source as FundingSource,
    latencyMs: nullableNumber(row.latency_ms),
    epoch: Number(row.epoch),
    createdAtMs: Number(row.created_at_ms),
  };
}

/**
 * An api_keys row and its key_limits rows. `allowedModels` is given already decoded: SQLite stores it as JSON text,
 * PostgreSQL as an array.
 */
export function toApiKey(row: Row, allowedModels: string[] | null, limitRows: Row[]): ApiKey {
  return {
    id: row.id as string,
    accountId: row.account_id as string,
    kind: row.kind as ApiKey['kind'],
    name: row.name as string,
    secretPrefix: row.secret_prefix as string,
    secretLast6: (row.secret_last6 as string | null) ?? null,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: nullableNumber(row.expires_at_ms),
    revokedAtMs: nullableNumber(row.revoked_at_ms),
    allowedModels,
    limits: limitRows.map((l) => ({
      currency: l.currency as KeyLimit['currency'],
      period: l.period as KeyLimit['period'],
      amountNano: l.amount_nano as bigint,
    })),
    rateLimits: rateLimitsOf(row.rpm_limit, row.tpm_limit),
    projectId: (row.project_id as string | null | undefined) ?? null,
    memberAccountId: (row.member_account_id as string | null | undefined) ?? null,
  };
}

/** The rpm_limit and tpm_limit columns; both NULL: the operator's defaults. */
export function rateLimitsOf(rpm: unknown, tpm: unknown): KeyRateLimits | null {
  const requestsPerMinute = nullableNumber(rpm);
  const tokensPerMinute = nullableNumber(tpm);
  return requestsPerMinute === null && tokensPerMinute === null ? null : { requestsPerMinute, tokensPerMinute };
}
