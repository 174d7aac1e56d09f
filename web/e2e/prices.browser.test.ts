/**
 * The operator's price calibration in headless Chromium, through the real gateway server (startGatewayServer on a
 * loopback port, serving the built dashboard) with a SQLite ledger file and the fake provider registry. The CU
 * estimates are given in memory (`computeMeasurementsOf`, the interface the measured estimates implement). The page
 * shows the proposal as a diff with the expected numbers, announces it for the next epoch and lists it as "next" with
 * its hash, shows a refusal of the gateway (another sheet took the epoch) in the page, and draws the model's price history with
 * the announced points marked as scheduled. Screenshots land in web/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelCu } from '../../src/core/computeUnits.ts';
import { dayMs } from '../../src/core/epoch.ts';
import { gatewayLogger } from '../../src/gateway/app.ts';
import { computeMeasurementsOf } from '../../src/gateway/pricing/computeMeasurementsOf.ts';
import { type GatewayServer, startGatewayServer } from '../../src/gateway/server.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../../src/gateway/testing/fakeRegistry.ts';
import { openSqliteLedger } from '../../src/ledger/sqlite/sqliteLedger.ts';
import type { Ledger } from '../../src/ledger/types.ts';
import { ensureDashboardBuilt } from '../ensureBuilt.ts';
import { type Browser, launchChromium } from './browser.ts';
import { screenshotDir } from './scenario.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-prices-page-'));
const operatorToken = 'pd-operator-prices-page';
const stepTimeoutMs = 30_000;

/**
 * At the default terms ($0.001 per CU, 20% margin, ±20% per epoch): fake-text's CU put it at $1.20 / $12, so both
 * rates are clamped to +20% ($1.2 / $4.8); fake-embed's at $0.09 (−10%, within the bound); fake-new has no price and
 * inherits fake-text's successor rates; fake-image has no estimate and keeps its price.
 */
const estimates: ModelCu[] = [
  {
    model: fakeModels.text,
    kind: 'text',
    inputPer1MMicroCu: 1_000_000_000n,
    outputPer1MMicroCu: 10_000_000_000n,
    samples: 40,
    inheritedFrom: null,
  },
  { model: fakeModels.embed, kind: 'embedding', inputPer1MMicroCu: 75_000_000n, samples: 12, inheritedFrom: null },
  {
    model: 'fake-new',
    kind: 'text',
    inputPer1MMicroCu: 500_000n,
    outputPer1MMicroCu: 1_500_000n,
    samples: 3,
    inheritedFrom: fakeModels.text,
  },
];

/** The price panels (or one card of them), cut from a full-page shot so the sticky top bar does not cover them. */
async function shot(page: Page, name: string, selector = '[data-testid="price-panels"]') {
  mkdirSync(screenshotDir, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is on the page`);
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true, clip: box });
}

/** The diff row of one model's field, as its cells read. */
async function diffRow(page: Page, model: string, field: string) {
  const row = page.locator(`[data-testid="proposal-row"][data-model="${model}"][data-field="${field}"]`);
  const cell = async (testId: string) => ((await row.getByTestId(testId).textContent()) ?? '').trim();
  return {
    current: await cell('current-price'),
    proposed: await cell('proposed-price'),
    cu: await cell('cu-rate'),
    samples: await cell('cu-samples'),
    change: (await row.getByTestId('change').count()) ? await cell('change') : null,
    clamped: (await row.getByTestId('clamped').count()) > 0,
    inherited: (await row.getByTestId('inherited-from').count()) ? await cell('inherited-from') : null,
  };
}

const pointsOf = (page: Page) =>
  page.getByTestId('price-point').evaluateAll((circles) =>
    circles.map((c) => ({
      field: c.getAttribute('data-field'),
      usd: c.getAttribute('data-usd'),
      effectiveFrom: c.getAttribute('data-effective-from'),
      scheduled: c.getAttribute('data-scheduled'),
    })),
  );

describe('price calibration on the operator page, in Chromium against the gateway server', () => {
  let ledger: Ledger | undefined;
  let server: GatewayServer | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await ledger?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('shows the proposal as a diff, announces it as next, shows a refusal, and charts the price history', async () => {
    const root = await ensureDashboardBuilt();
    ledger = openSqliteLedger({ path: path.join(home, 'ledger.sqlite'), clock: Date.now });
    server = await startGatewayServer({
      ledger,
      registry: fakeRegistry(),
      prices: fakePriceBook,
      compute: computeMeasurementsOf(estimates),
      logger: gatewayLogger('silent'),
      operatorToken,
      dashboard: { root },
    });
    const admin = async (route: string, json?: unknown) => {
      const response = await fetch(`${server!.url}${route}`, {
        method: json === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: answers read loosely, then matched exactly
      return { status: response.status, body: (await response.json()) as any };
    };
    // Epochs are UTC days: the proposal takes effect at the next midnight.
    const nextEpoch = Math.floor(Date.now() / dayMs) + 1;
    const nextEpochStart = new Date(nextEpoch * dayMs).toISOString();

    browser = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/#/operator`);
    await page.getByTestId('operator-token').fill(operatorToken);
    await page.getByTestId('operator-sign-in').click();
    await page.getByTestId('proposal-table').waitFor({ timeout: stepTimeoutMs });

    expect(await page.getByTestId('proposal-effective').textContent()).toContain(`epoch ${nextEpoch},`);
    expect(await diffRow(page, fakeModels.text, 'inputPer1M')).toEqual({
      current: '$1',
      proposed: '$1.2',
      cu: '1000 CU',
      samples: '40',
      change: '+20.00%',
      clamped: true,
      inherited: null,
    });
    expect(await diffRow(page, fakeModels.text, 'outputPer1M')).toMatchObject({
      current: '$4',
      proposed: '$4.8',
      cu: '10000 CU',
      change: '+20.00%',
      clamped: true,
    });
    expect(await diffRow(page, fakeModels.embed, 'inputPer1M')).toEqual({
      current: '$0.1',
      proposed: '$0.09',
      cu: '75 CU',
      samples: '12',
      change: '−10.00%',
      clamped: false,
      inherited: null,
    });
    expect(await diffRow(page, 'fake-new', 'outputPer1M')).toEqual({
      current: 'no price',
      proposed: '$0.0018',
      cu: '1.5 CU',
      samples: '3',
      change: null,
      clamped: false,
      inherited: `CU inherited from ${fakeModels.text}`,
    });
    expect(await diffRow(page, 'fake-image', 'perImage')).toMatchObject({
      current: '$0.04',
      proposed: '$0.04',
      cu: 'not measured',
      change: null,
    });
    const upChange = page.locator('[data-model="fake-text"][data-field="inputPer1M"] [data-testid="change"]');
    expect(await upChange.getAttribute('class')).toContain('up');

    await shot(page, 'prices-proposal', '.price-proposal');

    // The override reason is asked for only once the bound is overridden.
    expect(await page.getByTestId('override-reason').count()).toBe(0);
    await page.getByTestId('override-bound').check();
    await page.getByTestId('override-reason').waitFor({ timeout: stepTimeoutMs });
    expect(await page.getByTestId('announce').isDisabled()).toBe(true);
    await page.getByTestId('override-bound').uncheck();

    await page.getByTestId('announce').click();
    const next = page.getByTestId('announced-next');
    await next.waitFor({ timeout: stepTimeoutMs });
    const history = (await admin(`/admin/prices/history?model=${fakeModels.text}`)).body.data.points;
    expect(history.map((p: { effectiveFrom: string }) => p.effectiveFrom)).toEqual([
      '1970-01-01T00:00:00.000Z',
      nextEpochStart,
    ]);
    expect(await next.textContent()).toContain(`epoch ${nextEpoch}`);
    expect(await next.textContent()).toContain('next');
    expect(await page.getByTestId('announced-hash').getAttribute('title')).toBe(history[1].hash);
    const account = await ledger.createAccount();
    const key = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'models' });
    const models = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key.secret}` } });
    const spec = (await models.json()) as {
      data: { id: string; model_spec: { pricing: { next?: { effective_from: string } } } }[];
    };
    const textSpec = spec.data.find((m) => m.id === fakeModels.text)!;
    expect(textSpec.model_spec.pricing.next?.effective_from).toBe(nextEpochStart);

    // The proposal moves on to the epoch after; the announced sheet is its base (input stays, output +20% again).
    await page
      .getByTestId('proposal-effective')
      .filter({ hasText: `epoch ${nextEpoch + 1},` })
      .waitFor({ timeout: stepTimeoutMs });
    expect(await diffRow(page, fakeModels.text, 'outputPer1M')).toMatchObject({
      current: '$4.8',
      proposed: '$5.76',
      change: '+20.00%',
    });

    // The price history of fake-text: from the start, and the announced sheet marked as scheduled.
    await page.getByTestId('history-model').selectOption(fakeModels.text);
    const expectedPoints = [
      { field: 'inputPer1M', usd: '1', effectiveFrom: '1970-01-01T00:00:00.000Z', scheduled: 'false' },
      { field: 'inputPer1M', usd: '1.2', effectiveFrom: nextEpochStart, scheduled: 'true' },
      { field: 'outputPer1M', usd: '4', effectiveFrom: '1970-01-01T00:00:00.000Z', scheduled: 'false' },
      { field: 'outputPer1M', usd: '4.8', effectiveFrom: nextEpochStart, scheduled: 'true' },
    ];
    const deadline = Date.now() + stepTimeoutMs;
    while (JSON.stringify(await pointsOf(page)) !== JSON.stringify(expectedPoints) && Date.now() < deadline) {
      await page.waitForTimeout(200);
    }
    expect(await pointsOf(page)).toEqual(expectedPoints);
    const rows = page.locator('[data-testid="price-history-table"] [data-testid="history-row"]');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')))).toEqual([
      'in force',
      'scheduled',
    ]);
    expect(await rows.nth(1).textContent()).toContain('$4.8');
    // The scheduled point sits right of the "now" line, the first one left of it.
    const xs = await page
      .locator('[data-field="outputPer1M"] [data-testid="price-point"]')
      .evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cx'))));
    const nowX = Number(await page.locator('.now-line').getAttribute('x1'));
    assert.ok(xs[0]! < nowX && nowX < xs[1]!, `points at ${xs} around now at ${nowX}`);
    await shot(page, 'prices');

    // Another sheet takes the epoch the page shows; announcing it is refused, and the refusal shows in the page.
    const taken = await admin('/admin/prices/announce', { effectiveFrom: new Date((nextEpoch + 1) * dayMs) });
    expect(taken.status).toBe(201);
    await page.getByTestId('announce').click();
    const refusal = page.getByRole('alert').filter({ hasText: 'price_sheet_out_of_order' });
    await refusal.waitFor({ timeout: stepTimeoutMs });
    await page
      .getByTestId('proposal-effective')
      .filter({ hasText: `epoch ${nextEpoch + 2},` })
      .waitFor({ timeout: stepTimeoutMs });
    // Both announced sheets are listed, the one announced behind the page's back too, each with its hash.
    await page.getByTestId('announced-next').nth(1).waitFor({ timeout: stepTimeoutMs });
    expect(await page.getByTestId('announced-next').nth(1).textContent()).toContain(`epoch ${nextEpoch + 1}`);
    expect(
      await page.getByTestId('announced-hash').evaluateAll((codes) => codes.map((c) => c.getAttribute('title'))),
    ).toEqual([history[1].hash, taken.body.data.hash]);

    // At phone width the panels fit the screen: tables become labelled cards, the chart is redrawn narrower.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('price-chart').waitFor({ timeout: stepTimeoutMs });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const chartWidth = await page.getByTestId('price-chart').evaluate((svg) => svg.getBoundingClientRect().width);
    expect(chartWidth).toBeLessThan(390);
    await shot(page, 'prices-phone');
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
