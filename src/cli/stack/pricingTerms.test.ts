import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../command.ts';
import { resolveStackConfig } from '../stackConfig.ts';
import { pricingTermsOf } from './gateway.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-pricing-config-'));

describe('calibration terms of perdiem up', () => {
  it('keeps the gateway defaults with nothing set, and takes flags over the environment', () => {
    const none = resolveStackConfig({}, {}, cwd);
    expect(pricingTermsOf(none)).toEqual({});
    expect(none.autoCalibrate).toBe(false);
    const config = resolveStackConfig(
      { 'cu-price-usd': '0.0025', 'auto-calibrate': 'true' },
      { PERDIEM_PRICE_MARGIN_BPS: '1500', PERDIEM_PRICE_STEP_BPS_MAX: '500', PERDIEM_CU_PRICE_USD: '9' },
      cwd,
    );
    expect(pricingTermsOf(config)).toEqual({ cuPriceNano: 2_500_000n, marginBps: 1_500, stepBpsMax: 500 });
    expect(config.autoCalibrate).toBe(true);
  });

  it('refuses a CU price with more than 9 decimals and a negative step, naming the flag', () => {
    expect(() => resolveStackConfig({ 'cu-price-usd': '0.0000000001' }, {}, cwd)).toThrow(UsageError);
    expect(() => resolveStackConfig({ 'price-step-bps-max': '-1' }, {}, cwd)).toThrow(/--price-step-bps-max/);
  });
});
