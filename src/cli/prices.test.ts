/**
 * `perdiem prices` against a gateway on a port whose settings live in a SQLite ledger file: set, list and history,
 * and the sheet still listed after the gateway and its settings are started again on the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayLogger } from '../gateway/app.ts';
import { rateLimitsDefault } from '../gateway/limits.ts';
import { type GatewayServer, startGatewayServer } from '../gateway/server.ts';
import { openOperatorSettingsFor } from '../gateway/settings/operatorSettings.ts';
import { fakeModels, fakePriceBook, fakeRegistry } from '../gateway/testing/fakeRegistry.ts';
import { operatorToken } from '../gateway/testing/fixture.ts';
import { openSqliteLedger } from '../ledger/sqlite/sqliteLedger.ts';
import { main } from './main.ts';
import { captureIo } from './testing/captureIo.ts';

const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-cli-prices-'));
const sqlitePath = path.join(cwd, 'ledger.sqlite');

async function startGateway(): Promise<{ server: GatewayServer; close(): Promise<void> }> {
  const ledger = openSqliteLedger({ path: sqlitePath, clock: Date.now });
  const settings = await openOperatorSettingsFor({
    sqlitePath,
    defaults: { prices: fakePriceBook, rateLimits: rateLimitsDefault },
    clock: Date.now,
    pollIntervalMs: 0,
  });
  const server = await startGatewayServer({
    ledger,
    registry: fakeRegistry(),
    prices: fakePriceBook,
    settings,
    logger: gatewayLogger('silent'),
    operatorToken,
  });
  return {
    server,
    async close() {
      await server.close();
      await settings.close();
      await ledger.close();
    },
  };
}

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('perdiem prices', () => {
  it('sets a price, lists it, shows the stored history, and still lists it after a restart', async () => {
    let gateway = await startGateway();
    const run = async (...argv: string[]) => {
      const captured = captureIo(cwd);
      const code = await main(
        [...argv, '--gateway', gateway.server.url, '--operator-token', operatorToken],
        captured.io,
      );
      return { code, out: captured.stdout(), err: captured.stderr() };
    };
    try {
      const empty = await run('prices', 'history');
      expect(empty).toMatchObject({ code: 0, out: 'no stored price sheets (the gateway runs on its default prices)' });
      const set = await run(
        ...['prices', 'set', fakeModels.text, '--input-per-1m', '0.3', '--output-per-1m', '0.9'],
        ...['--override', '--reason', 'cheaper hardware'],
      );
      expect(set.err).toBe('');
      expect(set.code).toBe(0);

      await gateway.close();
      gateway = await startGateway();

      const listed = JSON.parse((await run('prices', 'list', '--json')).out) as { models: Record<string, unknown> }[];
      expect(listed).toHaveLength(2);
      expect(listed[1]!.models[fakeModels.text]).toEqual({ kind: 'text', inputPer1M: '0.3', outputPer1M: '0.9' });
      const history = await run('prices', 'history');
      expect(history.code).toBe(0);
      expect(history.out).toMatch(/^VERSION\s+STORED\s+BY\s+EFFECTIVE FROM\s+MODELS$/m);
      expect(history.out).toMatch(new RegExp(`^\\s*1\\s+\\S+\\s+admin-api\\s+\\S+\\s+.*${fakeModels.text}`, 'm'));
      const json = JSON.parse((await run('prices', 'history', '--json', '--limit', '1')).out) as unknown[];
      expect(json).toHaveLength(1);
      const bad = await run('prices', 'history', '--limit', '0');
      expect(bad.code).toBe(2);

      // The model's price in every version: the default, then the one announced for the next epoch, with its reason.
      const nextEpoch = new Date((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000).toISOString();
      const modelHistory = await run('prices', 'history', fakeModels.text);
      expect(modelHistory.out).toMatch(/^EFFECTIVE FROM\s+EPOCH\s+PRICE\s+SHEET\s+OVERRIDE$/m);
      expect(modelHistory.out).toMatch(
        /^1970-01-01T00:00:00\.000Z\s+0\s+\$1 in \/ \$4 out per 1M tokens\s+0x[0-9a-f]{8}…$/m,
      );
      expect(modelHistory.out).toContain(`${nextEpoch}`);
      expect(modelHistory.out).toMatch(/\$0\.3 in \/ \$0\.9 out per 1M tokens\s+0x[0-9a-f]{8}…\s+cheaper hardware$/m);
      const noReason = await run(
        'prices',
        'set',
        fakeModels.text,
        '--input-per-1m',
        '1',
        '--output-per-1m',
        '1',
        '--override',
      );
      expect(noReason).toMatchObject({ code: 2, err: expect.stringMatching(/--override needs --reason/) });
    } finally {
      await gateway.close();
    }
  });
});
