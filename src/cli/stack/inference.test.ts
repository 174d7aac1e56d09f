import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveStackConfig } from '../stackConfig.ts';
import { inference } from './inference.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-inference-'));
const quiet = () => {};

describe('what perdiem up serves: the compute rate the operator declares', () => {
  it('puts --compute-cu-per-second and --compute-cost-per-hour-usd on the served provider', async () => {
    const config = resolveStackConfig(
      { upstream: 'http://127.0.0.1:9/v1', 'upstream-models': 'm', 'compute-cu-per-second': '2.5' },
      { PERDIEM_COMPUTE_COST_PER_HOUR_USD: '1.25' },
      cwd,
    );
    const served = await inference(config, quiet);
    expect(served.providers[0]).toMatchObject({
      kind: 'openai',
      computeRate: { cuPerEngineSecond: 2.5, costPerHourUsd: '1.25' },
    });
  });

  it('declares nothing by default (the provider runs at the reference rate)', async () => {
    const config = resolveStackConfig({ upstream: 'http://127.0.0.1:9/v1', 'upstream-models': 'm' }, {}, cwd);
    const served = await inference(config, quiet);
    expect(served.providers[0]).not.toHaveProperty('computeRate');
  });

  it('refuses a rate that is not a number > 0', () => {
    expect(() => resolveStackConfig({ 'compute-cu-per-second': '0' }, {}, cwd)).toThrow(/computeCuPerSecond/);
  });
});
