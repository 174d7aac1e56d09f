/** Checks and row mapping the measurement adapters share. */
import { InvalidRequestError } from '../../core/errors.ts';
import type { ComputeMeasurement } from './measurementsLedger.ts';
import { measuredKinds } from './measurementsLedger.ts';

const idLengthMax = 256;

function reading(value: number | null, field: string): void {
  if (value !== null && !(Number.isFinite(value) && value >= 0)) {
    throw new InvalidRequestError(`${field} must be a finite number ≥ 0 or null`, {
      code: 'invalid_value',
      param: field,
    });
  }
}

function count(value: number, field: string): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new InvalidRequestError(`${field} must be a whole number ≥ 0`, { code: 'invalid_value', param: field });
  }
}

/** Refuses a row the store could not read back as itself; nothing of the batch is written then. */
export function checkMeasurement(row: ComputeMeasurement): void {
  for (const field of ['model', 'provider'] as const) {
    if (typeof row[field] !== 'string' || row[field].length === 0 || row[field].length > idLengthMax) {
      throw new InvalidRequestError(`${field} must be 1 to ${idLengthMax} characters`, {
        code: 'invalid_value',
        param: field,
      });
    }
  }
  if (!measuredKinds.includes(row.kind)) {
    throw new InvalidRequestError(`kind must be one of ${measuredKinds.join(', ')}`, {
      code: 'invalid_value',
      param: 'kind',
    });
  }
  reading(row.prefillSecondsPerToken, 'prefillSecondsPerToken');
  reading(row.decodeSecondsPerToken, 'decodeSecondsPerToken');
  reading(row.secondsPerImage, 'secondsPerImage');
  for (const field of ['prefillSamples', 'decodeSamples', 'imageSamples', 'samples', 'updatedAtMs'] as const) {
    count(row[field], field);
  }
}

export interface MeasurementRow {
  model: string;
  provider: string;
  kind: string;
  prefill_seconds_per_token: number | null;
  prefill_samples: number | bigint | string;
  decode_seconds_per_token: number | null;
  decode_samples: number | bigint | string;
  seconds_per_image: number | null;
  image_samples: number | bigint | string;
  samples: number | bigint | string;
  updated_at_ms: number | bigint | string;
}

export function measurementOf(row: MeasurementRow): ComputeMeasurement {
  const float = (value: number | null) => (value === null ? null : Number(value));
  return {
    model: row.model,
    provider: row.provider,
    kind: row.kind as ComputeMeasurement['kind'],
    prefillSecondsPerToken: float(row.prefill_seconds_per_token),
    prefillSamples: Number(row.prefill_samples),
    decodeSecondsPerToken: float(row.decode_seconds_per_token),
    decodeSamples: Number(row.decode_samples),
    secondsPerImage: float(row.seconds_per_image),
    imageSamples: Number(row.image_samples),
    samples: Number(row.samples),
    updatedAtMs: Number(row.updated_at_ms),
  };
}
