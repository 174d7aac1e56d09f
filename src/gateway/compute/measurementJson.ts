/** One measurement row as GET /admin/measurements and `perdiem models measurements --json` show it. */
import { formatCu } from '../../core/computeUnits.ts';
import type { MeasurementView } from './measuredCompute.ts';

export interface MeasurementJson {
  model: string;
  provider: string;
  kind: string;
  prefillSecondsPerToken: number | null;
  decodeSecondsPerToken: number | null;
  secondsPerImage: number | null;
  samples: number;
  /** Decimal CU strings at the provider's rate, or null without a reading. */
  cu: { inputPer1M: string | null; outputPer1M: string | null; perImage: string | null };
  inheritedFrom: string | null;
  updatedAt: string | null;
}

const cuText = (microCu: bigint | undefined) => (microCu === undefined ? null : formatCu(microCu));

export function measurementJson(view: MeasurementView): MeasurementJson {
  return {
    model: view.model,
    provider: view.provider,
    kind: view.kind,
    prefillSecondsPerToken: view.prefillSecondsPerToken,
    decodeSecondsPerToken: view.decodeSecondsPerToken,
    secondsPerImage: view.secondsPerImage,
    samples: view.samples,
    cu: {
      inputPer1M: cuText(view.cu.inputPer1MMicroCu),
      outputPer1M: cuText(view.cu.outputPer1MMicroCu),
      perImage: cuText(view.cu.perImageMicroCu),
    },
    inheritedFrom: view.inheritedFrom,
    updatedAt: view.updatedAtMs === 0 ? null : new Date(view.updatedAtMs).toISOString(),
  };
}
