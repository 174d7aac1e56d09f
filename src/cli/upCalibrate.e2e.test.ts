/**
 * Calibration through `perdiem up` (a real process) and the CLI: the pricing flags reach the gateway, `perdiem prices
 * calibrate --apply` announces a sheet for the next epoch, and after a SIGKILL of `up` and a new start the announced
 * sheet is still scheduled: /v1/models shows it as `pricing.next` with its `effective_from`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { startUpProcess, stopUpProcess, type UpProcess } from './testing/upProcess.ts';
import { verbRunner } from './testing/verbRunner.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-calibrate-'));
const args = ['--cu-price-usd', '0.002', '--price-margin-bps', '1000', '--price-step-bps-max', '5000'];

const perdiem = verbRunner(home);

function exited(running: UpProcess): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => running.child.once('exit', () => resolve()));
}

describe('perdiem up with calibration', { timeout: 300_000 }, () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('announces the calibrated sheet for the next epoch, and keeps it scheduled across a SIGKILL', async () => {
    const first = await startUpProcess(home, { args });
    const nextEpoch = new Date((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000).toISOString();
    try {
      const proposal = JSON.parse((await perdiem('prices', 'calibrate', '--json')).out);
      expect(proposal).toMatchObject({
        effectiveFrom: nextEpoch,
        cuPriceUsd: '0.002',
        marginBps: 1_000,
        stepBpsMax: 5_000,
      });
      expect(proposal.models.map((m: { model: string }) => m.model)).toContain('perdiem-demo');
      const applied = await perdiem('prices', 'calibrate', '--apply');
      expect(applied.err).toBe('');
      expect(applied.out).toMatch(
        new RegExp(`^announced for epoch \\d+, from ${nextEpoch}: sheet 0x[0-9a-f]{64}$`, 'm'),
      );
    } finally {
      // A crash: `up` dies without stopping anything (the next start reaps the chain it left).
      first.child.kill('SIGKILL');
      await exited(first);
    }

    const second = await startUpProcess(home, { args });
    try {
      const openai = new OpenAI({ baseURL: `${second.state.gatewayUrl}/v1`, apiKey: second.state.demo!.apiKey });
      const models = await openai.models.list();
      const demo = models.data.find((m) => m.id === 'perdiem-demo') as unknown as {
        model_spec: { pricing: { next?: { effective_from: string; unit: string } } };
      };
      expect(demo.model_spec.pricing.next).toMatchObject({ effective_from: nextEpoch, unit: 'per_1m_tokens' });
      const history = JSON.parse((await perdiem('prices', 'history', 'perdiem-demo', '--json')).out);
      expect(history.points.map((p: { effectiveFrom: string }) => p.effectiveFrom).at(-1)).toBe(nextEpoch);
      expect(history.points.length).toBeGreaterThanOrEqual(2);
    } finally {
      expect(await stopUpProcess(second)).toBe(0);
    }
  });
});
