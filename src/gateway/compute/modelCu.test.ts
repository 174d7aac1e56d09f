import { describe, expect, it } from 'vitest';
import { type ComputeRate, computeRateOf, formatCu, referenceComputeRate } from '../../core/computeUnits.ts';
import type { ComputeMeasurement } from '../../ledger/measurements/measurementsLedger.ts';
import { computeLimits } from './limits.ts';
import { modelCuOf, ownModelCu } from './modelCu.ts';

const row = (over: Partial<ComputeMeasurement>): ComputeMeasurement => ({
  model: 'm',
  provider: 'p',
  kind: 'text',
  prefillSecondsPerToken: null,
  prefillSamples: 0,
  decodeSecondsPerToken: null,
  decodeSamples: 0,
  secondsPerImage: null,
  imageSamples: 0,
  samples: 0,
  updatedAtMs: 1,
  ...over,
});
const reference = () => referenceComputeRate;
const noPredecessor = () => null;

describe('CU of a model', () => {
  it('converts seconds per token at the provider rate into micro-CU per 1M tokens, rounded up', () => {
    const twice: ComputeRate = computeRateOf({ cuPerEngineSecond: 2, costPerHourUsd: '1.5' });
    expect(twice).toEqual({ cuPerEngineSecondPpm: 2_000_000, costPerHourNano: 1_500_000_000n });
    const rows = [
      row({ prefillSecondsPerToken: 1e-4, prefillSamples: 1, decodeSecondsPerToken: 1 / 3, decodeSamples: 1 }),
    ];
    const cu = ownModelCu('m', rows, () => twice);
    // 1e-4 s × 1e6 tokens × 2 CU/s = 200 CU; 1/3 s × 1e6 × 2 = 666,666.67 CU, rounded up in micro-CU.
    expect(cu?.inputPer1MMicroCu).toBe(200_000_000n);
    expect(cu?.outputPer1MMicroCu).toBe(666_666_666_667n);
    expect(formatCu(cu!.outputPer1MMicroCu!)).toBe('666666.666667');
  });

  it('weights each provider by the samples behind each reading', () => {
    const rows = [
      row({ provider: 'a', decodeSecondsPerToken: 1e-3, decodeSamples: 3, samples: 3 }),
      row({ provider: 'b', decodeSecondsPerToken: 5e-3, decodeSamples: 1, samples: 1 }),
    ];
    // (1,000 CU × 3 + 5,000 CU × 1) / 4 = 2,000 CU per 1M output tokens.
    expect(ownModelCu('m', rows, reference)).toEqual({
      model: 'm',
      kind: 'text',
      outputPer1MMicroCu: 2_000_000_000n,
      samples: 4,
      inheritedFrom: null,
    });
  });

  it('a new version stands on its predecessor until it has samplesMin samples of its own', () => {
    const old = row({ model: 'v1', decodeSecondsPerToken: 0.01, decodeSamples: 50, samples: 50 });
    const predecessorOf = (model: string) => (model === 'v2' ? 'v1' : null);
    expect(modelCuOf('v2', [old], reference, predecessorOf)).toMatchObject({
      model: 'v2',
      outputPer1MMicroCu: 10_000_000_000n,
      samples: 50,
      inheritedFrom: 'v1',
    });
    const few = row({
      model: 'v2',
      decodeSecondsPerToken: 0.02,
      decodeSamples: 19,
      samples: computeLimits.samplesMin - 1,
    });
    expect(modelCuOf('v2', [old, few], reference, predecessorOf)?.inheritedFrom).toBe('v1');
    const enough = { ...few, samples: computeLimits.samplesMin };
    expect(modelCuOf('v2', [old, enough], reference, predecessorOf)).toMatchObject({
      outputPer1MMicroCu: 20_000_000_000n,
      inheritedFrom: null,
    });
  });

  it('follows a chain of predecessors to the model measured, and stops on a cycle', () => {
    const measured = row({ model: 'v1', decodeSecondsPerToken: 0.01, decodeSamples: 50, samples: 50 });
    const chain = (model: string) => ({ v3: 'v2', v2: 'v1' })[model] ?? null;
    expect(modelCuOf('v3', [measured], reference, chain)?.inheritedFrom).toBe('v1');
    const cycle = (model: string) => (model === 'x' ? 'y' : 'x');
    expect(modelCuOf('x', [], reference, cycle)).toBeNull();
    expect(modelCuOf('nothing', [], reference, noPredecessor)).toBeNull();
  });
});
