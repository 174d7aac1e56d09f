import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrationTermsDefault, clampStep, priceOfMicroCu, proposeSheet } from './calibration.ts';
import type { ModelCu } from './computeUnits.ts';
import { checkSheetChange, withinStep } from './priceChange.ts';
import type { PriceSheet } from './pricing.ts';

const runs = { numRuns: 300, seed: 16_0001 };
const nano = fc.bigInt({ min: 0n, max: 10n ** 15n });
const stepBps = fc.integer({ min: 0, max: 20_000 });
const epochMs = 86_400_000;

function textCu(model: string, inputMicroCu: bigint, outputMicroCu: bigint, samples = 10): ModelCu {
  return {
    model,
    kind: 'text',
    inputPer1MMicroCu: inputMicroCu,
    outputPer1MMicroCu: outputMicroCu,
    samples,
    inheritedFrom: null,
  };
}

describe('priceOfMicroCu', () => {
  it('is CU × CU price × (1 + margin), rounded up to the nano-USD', () => {
    // 2,000 CU per 1M tokens at $0.001 per CU and 20%: $2.40.
    expect(priceOfMicroCu(2_000_000_000n, calibrationTermsDefault)).toBe(2_400_000_000n);
    // 1 micro-CU at 1 nano-USD per CU is a millionth of a nano-USD: one nano-USD, rounded up.
    expect(priceOfMicroCu(1n, { cuPriceNano: 1n, marginBps: 0 })).toBe(1n);
    expect(priceOfMicroCu(0n, calibrationTermsDefault)).toBe(0n);
  });

  it('never undercounts, and overcounts by less than one nano-USD', () => {
    fc.assert(
      fc.property(nano, nano, fc.integer({ min: 0, max: 50_000 }), (microCu, cuPriceNano, marginBps) => {
        const price = priceOfMicroCu(microCu, { cuPriceNano, marginBps });
        const exact = microCu * cuPriceNano * BigInt(10_000 + marginBps);
        const unit = 1_000_000n * 10_000n;
        expect(price * unit >= exact).toBe(true);
        expect((price - 1n) * unit < exact || price === 0n).toBe(true);
      }),
      runs,
    );
  });
});

describe('clampStep', () => {
  it('keeps every result within the bound, moves toward the target, and says when it stopped short', () => {
    fc.assert(
      fc.property(nano, nano, stepBps, (current, target, step) => {
        const { value, clamped } = clampStep(current, target, step);
        expect(withinStep(current, value, step)).toBe(true);
        expect(clamped).toBe(value !== target);
        const toward = target >= current ? value >= current && value <= target : value <= current && value >= target;
        expect(toward).toBe(true);
        if (!clamped) expect(withinStep(current, target, step)).toBe(true);
      }),
      runs,
    );
  });

  it('stops a 10× rise at +20% and a 10× fall at −20%; a free rate stays free', () => {
    expect(clampStep(1_000n, 10_000n, 2_000)).toEqual({ value: 1_200n, clamped: true });
    expect(clampStep(1_000n, 100n, 2_000)).toEqual({ value: 800n, clamped: true });
    expect(clampStep(1_000n, 1_100n, 2_000)).toEqual({ value: 1_100n, clamped: false });
    expect(clampStep(0n, 5n, 2_000)).toEqual({ value: 0n, clamped: true });
  });
});

describe('proposeSheet', () => {
  const current: PriceSheet = {
    effectiveFromMs: 0,
    models: {
      small: { kind: 'text', inputPer1M: 1_000_000_000n, outputPer1M: 4_000_000_000n, cacheReadPer1M: 500_000_000n },
      unmeasured: { kind: 'text', inputPer1M: 3_000_000_000n, outputPer1M: 9_000_000_000n },
      voice: { kind: 'speech', per1MCharacters: 15_000_000_000n },
    },
  };

  it('calibrates the measured rates within the bound, keeps the rest, and prices a new model outright', () => {
    const estimates = [
      // Targets: $1.10 in (within 20%), $24 out (clamped to $4.80).
      textCu('small', 916_666_667n, 20_000_000_000n),
      textCu('fresh', 500_000_000n, 2_000_000_000n),
      textCu('no-samples', 1n, 1n, 0),
    ];
    const { sheet, models } = proposeSheet(current, estimates, calibrationTermsDefault, epochMs);
    expect(sheet.effectiveFromMs).toBe(epochMs);
    expect(sheet.models.small).toEqual({
      kind: 'text',
      inputPer1M: 1_100_000_001n,
      outputPer1M: 4_800_000_000n,
      cacheReadPer1M: 500_000_000n,
    });
    expect(models.find((m) => m.model === 'small')).toMatchObject({
      changeBps: { inputPer1M: 1_000, outputPer1M: 2_000 },
      clamped: true,
    });
    expect(sheet.models.unmeasured).toEqual(current.models.unmeasured);
    expect(sheet.models.voice).toEqual(current.models.voice);
    expect(sheet.models.fresh).toEqual({ kind: 'text', inputPer1M: 600_000_000n, outputPer1M: 2_400_000_000n });
    expect(models.find((m) => m.model === 'fresh')).toMatchObject({ current: null, changeBps: {}, clamped: false });
    expect(sheet.models['no-samples']).toBeUndefined();
  });

  it('always proposes a sheet the change rules accept at the next boundary without an override', () => {
    const microCu = fc.bigInt({ min: 0n, max: 10n ** 12n });
    fc.assert(
      fc.property(microCu, microCu, nano, nano, stepBps, (input, output, curIn, curOut, step) => {
        const sheet: PriceSheet = {
          effectiveFromMs: 0,
          models: { m: { kind: 'text', inputPer1M: curIn, outputPer1M: curOut } },
        };
        const terms = { ...calibrationTermsDefault, stepBpsMax: step };
        const proposal = proposeSheet(sheet, [textCu('m', input, output)], terms, epochMs);
        const rules = { epochSeconds: 86_400, stepBpsMax: step };
        expect(() => checkSheetChange({ versions: [sheet] }, proposal.sheet, rules, 1, null)).not.toThrow();
      }),
      runs,
    );
  });

  it('follows a sudden 10× cost rise one bounded step per epoch until it reaches the target', () => {
    let sheet: PriceSheet = {
      effectiveFromMs: 0,
      models: { m: { kind: 'text', inputPer1M: 1_200n, outputPer1M: 1_200n } },
    };
    const tenfold = textCu('m', 10_000n * 1_000_000n, 10_000n * 1_000_000n);
    const terms = { cuPriceNano: 1n, marginBps: 2_000, stepBpsMax: 5_000 };
    const outputs: bigint[] = [];
    for (let epoch = 1; epoch <= 8; epoch++) {
      const next = proposeSheet(sheet, [tenfold], terms, epoch * epochMs).sheet;
      outputs.push((next.models.m as { outputPer1M: bigint }).outputPer1M);
      sheet = next;
    }
    expect(outputs).toEqual([1_800n, 2_700n, 4_050n, 6_075n, 9_112n, 12_000n, 12_000n, 12_000n]);
  });
});
