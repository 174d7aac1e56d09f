import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gatewayLogger } from './app.ts';

describe('gatewayLogger', () => {
  let directory: string;
  let path: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'perdiem-logger-'));
    path = join(directory, 'access.log');
  });
  afterEach(async () => rm(directory, { recursive: true, force: true }));

  const linesOf = async () =>
    (await readFile(path, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes every line whole, multi-byte text intact, secrets redacted', async () => {
    const logger = gatewayLogger('info', path, 50);
    for (let i = 0; i < 500; i++) {
      logger.info({ requestId: `req_${i}`, model: 'модель-€-🙂', authorization: 'Bearer pd_secret' }, 'request');
    }
    await new Promise<void>((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
    const lines = await linesOf();
    expect(lines.map((line) => line.requestId)).toEqual(Array.from({ length: 500 }, (_, i) => `req_${i}`));
    for (const line of lines) {
      expect(line.model).toBe('модель-€-🙂');
      expect(line.authorization).toBe('[Redacted]');
    }
  });

  it("shows a quiet gateway's line within the flush interval", async () => {
    const logger = gatewayLogger('info', path, 50);
    logger.info({ requestId: 'req_alone' }, 'request');
    await sleep(300);
    expect((await linesOf()).map((line) => line.requestId)).toEqual(['req_alone']);
  });

  it('writes the lines it holds when the process exits', () => {
    const app = join(import.meta.dirname, 'app.ts');
    const script = `const { gatewayLogger } = await import(${JSON.stringify(app)});
const logger = gatewayLogger('info', ${JSON.stringify(path)}, 60_000);
// Once the file is open (a path opens asynchronously), a line and an immediate exit, long before any flush is due.
setTimeout(() => {
  logger.info({ requestId: 'req_last' }, 'request');
  process.exit(0);
}, 200);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      // A destination that cannot flush may spin at exit: fail rather than hang.
      timeout: 10_000,
      killSignal: 'SIGKILL',
    });
    expect(child.status, child.stderr).toBe(0);
    return linesOf().then((lines) => expect(lines.map((line) => line.requestId)).toEqual(['req_last']));
  });
});
