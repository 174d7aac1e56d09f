/**
 * The operator's price changes through the in-process gateway (fake clock, CU estimates given as `ModelCu` values):
 * the proposal, announcing it, /v1/models' `pricing.next` and `compute_units`, one model's history, and the change
 * rules on POST /admin/prices, each refusal an OpenAI-shaped 400 that leaves the book as it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelCu } from '../../core/computeUnits.ts';
import { computeMeasurementsOf } from '../pricing/computeMeasurementsOf.ts';
import { fakeModels } from '../testing/fakeRegistry.ts';
import { type InProcessGateway, operatorToken, startInProcessGateway } from '../testing/inProcess.ts';

const operator = { authorization: `Bearer ${operatorToken}` };
/** The in-process clock starts at 2025-01-02T12:00Z; epochs are UTC days. */
const nextEpochStart = '2025-01-03T00:00:00.000Z';
const nextEpoch = Date.parse(nextEpochStart) / 86_400_000;

/** fake-text costs 1,000 CU per 1M input tokens and 10,000 per 1M output: $1.20 and $12 at the defaults. */
const textCu: ModelCu = {
  model: fakeModels.text,
  kind: 'text',
  inputPer1MMicroCu: 1_000_000_000n,
  outputPer1MMicroCu: 10_000_000_000n,
  samples: 40,
  inheritedFrom: null,
};
const newModelCu: ModelCu = {
  model: 'fake-new',
  kind: 'text',
  inputPer1MMicroCu: 500_000n,
  outputPer1MMicroCu: 1_500_000n,
  samples: 3,
  inheritedFrom: 'fake-text',
};

let gw: InProcessGateway;
afterEach(async () => gw?.close());

// biome-ignore lint/suspicious/noExplicitAny: response bodies read loosely, then matched exactly
type Json = any;

async function admin(path: string, json?: unknown) {
  const response = await gw.request(path, { headers: operator, key: null, ...(json === undefined ? {} : { json }) });
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

async function modelSpec(id: string) {
  const body = (await (await gw.request('/v1/models')).json()) as { data: { id: string; model_spec: Json }[] };
  return body.data.find((model) => model.id === id)!.model_spec;
}

describe('price proposal and announcement', () => {
  it('proposes bounded prices from CU, announces them for the next epoch, and shows them as pricing.next', async () => {
    gw = await startInProcessGateway({ compute: computeMeasurementsOf([textCu, newModelCu]) });
    const proposal = await admin('/admin/prices/proposal');
    expect(proposal.status).toBe(200);
    expect(proposal.body.data).toMatchObject({
      epoch: nextEpoch,
      effectiveFrom: nextEpochStart,
      cuPriceUsd: '0.001',
      marginBps: 2_000,
      stepBpsMax: 2_000,
    });
    const byModel = Object.fromEntries(proposal.body.data.models.map((m: { model: string }) => [m.model, m]));
    expect(byModel[fakeModels.text]).toEqual({
      model: fakeModels.text,
      kind: 'text',
      current: { kind: 'text', inputPer1M: '1', outputPer1M: '4' },
      proposed: { kind: 'text', inputPer1M: '1.2', outputPer1M: '4.8' },
      changeBps: { inputPer1M: 2_000, outputPer1M: 2_000 },
      clamped: true,
      cu: { inputPer1M: '1000', outputPer1M: '10000', samples: 40, inheritedFrom: null },
    });
    expect(byModel[fakeModels.embed]).toMatchObject({ current: { inputPer1M: '0.1' }, changeBps: {}, cu: null });
    expect(byModel['fake-new']).toMatchObject({
      current: null,
      proposed: { kind: 'text', inputPer1M: '0.0006', outputPer1M: '0.0018' },
      cu: { inputPer1M: '0.5', outputPer1M: '1.5', samples: 3, inheritedFrom: 'fake-text' },
    });

    const announced = await admin('/admin/prices/announce', { models: [fakeModels.text] });
    expect(announced.status).toBe(201);
    expect(announced.body.data).toMatchObject({ effectiveFrom: nextEpochStart, epoch: nextEpoch, override: null });
    expect(announced.body.data.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(announced.body.data.sheet.models).toEqual({
      [fakeModels.text]: { kind: 'text', inputPer1M: '1.2', outputPer1M: '4.8' },
      [fakeModels.embed]: { kind: 'embedding', inputPer1M: '0.1' },
      'fake-image': { kind: 'image', perImage: '0.04', byResolution: {} },
    });

    const spec = await modelSpec(fakeModels.text);
    expect(spec.pricing).toMatchObject({
      input: { usd: 1, diem: 1 },
      output: { usd: 4, diem: 4 },
      unit: 'per_1m_tokens',
      next: { input: { usd: 1.2, diem: 1.2 }, output: { usd: 4.8, diem: 4.8 }, effective_from: nextEpochStart },
    });
    expect(spec.compute_units).toEqual({ input_per_1m: 1000, output_per_1m: 10000, samples: 40, inherited_from: null });
    expect((await modelSpec(fakeModels.unpriced)).compute_units).toBeNull();

    const again = await admin('/admin/prices/announce', { effectiveFrom: nextEpochStart });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('price_sheet_out_of_order');

    const history = await admin(`/admin/prices/history?model=${fakeModels.text}`);
    expect(history.body.data).toEqual({
      model: fakeModels.text,
      points: [
        {
          effectiveFrom: '1970-01-01T00:00:00.000Z',
          epoch: 0,
          hash: expect.stringMatching(/^0x/),
          price: { kind: 'text', inputPer1M: '1', outputPer1M: '4' },
          override: null,
        },
        {
          effectiveFrom: nextEpochStart,
          epoch: nextEpoch,
          hash: announced.body.data.hash,
          price: { kind: 'text', inputPer1M: '1.2', outputPer1M: '4.8' },
          override: null,
        },
      ],
    });
  });

  it('refuses announcements mid-epoch, for models outside the proposal, and a history without a model', async () => {
    gw = await startInProcessGateway({ compute: computeMeasurementsOf([textCu]) });
    const cases: [string, unknown, string, string][] = [
      ['/admin/prices/announce', { effectiveFrom: '2025-01-03T00:00:01Z' }, 'price_sheet_mid_epoch', 'effectiveFrom'],
      ['/admin/prices/announce', { effectiveFrom: '2025-01-02T00:00:00Z' }, 'price_sheet_mid_epoch', 'effectiveFrom'],
      ['/admin/prices/announce', { models: ['nope'] }, 'model_not_in_proposal', 'models'],
      ['/admin/prices/announce', { override: { reason: '  ' } }, 'invalid_value', 'override.reason'],
    ];
    for (const [path, json, code, param] of cases) {
      const refused = await admin(path, json);
      expect(refused.status, JSON.stringify(json)).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param });
      if (code !== 'invalid_value') expect(refused.body.error.code).toBe(code);
    }
    const history = await admin('/admin/prices/history');
    expect(history.status).toBe(400);
    expect(history.body.error.param).toBe('model');
    expect((await admin('/admin/prices')).body.versions).toHaveLength(1);
  });
});

describe('POST /admin/prices under the change rules', () => {
  const sheetWith = (effectiveFrom: string | undefined, textPrice: Record<string, string>, more = {}) => ({
    ...(effectiveFrom ? { effectiveFrom } : {}),
    models: {
      [fakeModels.text]: { kind: 'text', ...textPrice },
      [fakeModels.embed]: { kind: 'embedding', inputPer1M: '0.1' },
      'fake-image': { kind: 'image', perImage: '0.04' },
      ...more,
    },
  });

  it('refuses a repricing mid-epoch or past the bound, takes it at the boundary or with a reason', async () => {
    gw = await startInProcessGateway();
    const now = new Date(gw.clock.now()).toISOString();
    const midEpoch = await admin('/admin/prices', sheetWith(now, { inputPer1M: '1.1', outputPer1M: '4' }));
    expect(midEpoch.status).toBe(400);
    expect(midEpoch.body.error).toMatchObject({ code: 'price_sheet_mid_epoch', param: 'effectiveFrom' });
    const tooFar = await admin('/admin/prices', sheetWith(nextEpochStart, { inputPer1M: '2', outputPer1M: '4' }));
    expect(tooFar.body.error).toMatchObject({ code: 'price_change_exceeds_bound', param: 'models' });
    expect((await admin('/admin/prices')).body.versions).toHaveLength(1);
    expect((await admin('/admin/settings/history?kind=prices')).body.data).toEqual([]);

    // Without effectiveFrom, a change goes to the next epoch start; with a reason, past the bound.
    const overridden = await admin('/admin/prices', {
      ...sheetWith(undefined, { inputPer1M: '2', outputPer1M: '4' }),
      override: { reason: 'the upstream doubled its price' },
    });
    expect(overridden.status).toBe(201);
    expect(overridden.body.data).toMatchObject({
      effectiveFrom: nextEpochStart,
      epoch: nextEpoch,
      override: { reason: 'the upstream doubled its price' },
    });
    const stored = (await admin('/admin/settings/history?kind=prices')).body.data;
    expect(stored[0]).toMatchObject({ actor: 'admin-api', note: 'override: the upstream doubled its price' });
    expect((await modelSpec(fakeModels.text)).pricing.next).toMatchObject({
      input: { usd: 2 },
      effective_from: nextEpochStart,
      notice: 'the upstream doubled its price',
    });
    const history = (await admin(`/admin/prices/history?model=${fakeModels.text}`)).body.data.points;
    expect(history.at(-1).override).toEqual({ reason: 'the upstream doubled its price' });
  });

  it('prices a model that had no price at once, mid-epoch', async () => {
    gw = await startInProcessGateway();
    const unpriced = { [fakeModels.unpriced]: { kind: 'text', inputPer1M: '0.5', outputPer1M: '1' } };
    const chat = { model: fakeModels.unpriced, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };
    const refused = await gw.request('/v1/chat/completions', { json: chat });
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('model_not_priced');
    const added = await admin('/admin/prices', sheetWith(undefined, { inputPer1M: '1', outputPer1M: '4' }, unpriced));
    expect(added.status).toBe(201);
    expect(added.body.data.effectiveFrom).toBe(new Date(gw.clock.now()).toISOString());
    const served = await gw.request('/v1/chat/completions', { json: chat });
    expect(served.status).toBe(200);
    // 7 prompt tokens at $0.50 and 3 output tokens at $1 per 1M.
    expect(((await served.json()) as { cost: { nanoUsd: string } }).cost.nanoUsd).toBe(String(3_500 + 3_000));
  });
});
