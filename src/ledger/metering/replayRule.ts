/**
 * The idempotency replay rule (Stripe's), declared once as data: SQLite runs `replayVerdictOf` (through `replayOf`),
 * PostgreSQL runs the PL/pgSQL that `replayRefusalSql` generates from the same declaration inside `perdiem_reserve`.
 *
 * A retry under a live or settled reservation's idempotency key is the same request when every `sameRequest` field
 * matches, else it is refused (`idempotency_key_mismatch`, 422). When both attempts carry the `identity` field, it is
 * then a replay whatever its bounds. Otherwise every `sameBounds` field must match and the earlier reservation must
 * fit the retry's amount bounds, else it is refused (`idempotency_key_reused`, 409).
 */
import type { NanoUsd } from '../../core/money.ts';
import type { Reservation } from './meteringLedger.ts';

/** A retry, as both adapters see it once its input is resolved. */
export interface ReplayAttempt {
  keyId: string | null;
  requestHash: string | null;
  model: string;
  amountNano: NanoUsd;
  minAmountNano: NanoUsd;
}

type Field = 'keyId' | 'requestHash' | 'model';

/** 'equal' compares nulls too; 'equalWhenBothSet' only when neither attempt left the field out. */
type Comparison = 'equal' | 'equalWhenBothSet';

export const replayRule = {
  sameRequest: [
    { field: 'keyId', comparison: 'equal' },
    { field: 'requestHash', comparison: 'equalWhenBothSet' },
  ] as const satisfies readonly { field: Field; comparison: Comparison }[],
  identity: 'requestHash' as const satisfies Field,
  sameBounds: ['model'] as const satisfies readonly Field[],
};

export const replayRefusalCodes = { mismatch: 'idempotency_key_mismatch', reused: 'idempotency_key_reused' } as const;

export type ReplayVerdict = 'replay' | keyof typeof replayRefusalCodes;

function differs(comparison: Comparison, earlier: unknown, retry: unknown): boolean {
  if (comparison === 'equalWhenBothSet' && (earlier === null || retry === null)) return false;
  return earlier !== retry;
}

export function replayVerdictOf(earlier: Reservation, retry: ReplayAttempt): ReplayVerdict {
  for (const { field, comparison } of replayRule.sameRequest) {
    if (differs(comparison, earlier[field], retry[field])) return 'mismatch';
  }
  if (earlier[replayRule.identity] !== null && retry[replayRule.identity] !== null) return 'replay';
  for (const field of replayRule.sameBounds) if (differs('equal', earlier[field], retry[field])) return 'reused';
  const fits = earlier.amountNano <= retry.amountNano && earlier.amountNano >= retry.minAmountNano;
  return fits ? 'replay' : 'reused';
}

const columnOf = (field: Field | 'amountNano') => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The rule as PL/pgSQL on the earlier reservation row `earlier` and the retry's SQL expressions, raising
 * `perdiem:<code>` on a refusal and falling through on a replay.
 */
export function replayRefusalSql(earlier: string, retry: Record<keyof ReplayAttempt, string>): string {
  const column = (field: Field | 'amountNano') => `${earlier}.${columnOf(field)}`;
  const differsSql = (comparison: Comparison, field: Field) =>
    comparison === 'equal'
      ? `${column(field)} IS DISTINCT FROM ${retry[field]}`
      : `${column(field)} <> ${retry[field]}`;
  const mismatch = replayRule.sameRequest.map(({ field, comparison }) => differsSql(comparison, field));
  const reused = [
    ...replayRule.sameBounds.map((field) => differsSql('equal', field)),
    `${column('amountNano')} > ${retry.amountNano}`,
    `${column('amountNano')} < ${retry.minAmountNano}`,
  ];
  const identity = replayRule.identity;
  return `IF ${mismatch.join(' OR ')} THEN
      RAISE EXCEPTION 'perdiem:${replayRefusalCodes.mismatch}';
    END IF;
    IF ${column(identity)} IS NULL OR ${retry[identity]} IS NULL THEN
      IF ${reused.join(' OR ')} THEN
        RAISE EXCEPTION 'perdiem:${replayRefusalCodes.reused}';
      END IF;
    END IF;`;
}
