/**
 * Gateway overhead: latency (p50/p99 at concurrency 1) and maximum throughput of
 *   direct       — the client calls the upstream itself;
 *   passthrough  — through a bare undici pass-through proxy (no parsing, no metering);
 *   gateway      — through the perdiem gateway with full metering on a SQLite file (auth, zod validation, rate
 *                  limits, reserve, settle with usage rows and journal, pino logging to /dev/null);
 * all against the same OpenAI-compatible upstream, in one run, plus the time-to-first-token the gateway adds to a
 * stream. The upstream, proxy and gateway each run in their own child process; this process only generates load.
 * Writes bench/results/gateway.json and bench/results/gateway.md.
 *
 * Environment: BENCH_SECONDS (default 3 per phase), BENCH_CONCURRENCY (default 32, the throughput phase).
 * BENCH_CEILING=1 adds a diagnostic fourth path, `ceiling`: the same gateway with the ledger's reserve, settle and void
 * answered from memory (no storage at all), to show how much of the pass-through's throughput the rest of the metered
 * request path leaves room for. It is not a configuration the product offers, and it is reported apart.
 * BENCH_RECEIPTS=1 adds the path `receipts`: the metered gateway signing an EIP-712 receipt for every charge, as
 * `perdiem up` runs it, compared with the same gateway without receipts within each round.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { Ledger, Reservation } from '../src/ledger/types.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const withCeiling = process.env.BENCH_CEILING === '1';
const withReceipts = process.env.BENCH_RECEIPTS === '1';
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const roundsCount = Number(process.env.BENCH_ROUNDS ?? 3);
const model = 'bench-model';
const requestBody = JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const streamBody = JSON.stringify({
  model,
  messages: [{ role: 'user', content: 'Say hello.' }],
  max_tokens: 16,
  stream: true,
});

// ---------------------------------------------------------------- child roles

async function runUpstream(): Promise<void> {
  const completion = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, friend.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 },
  });
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  const usageChunk = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model, choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } })}\n\n`;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (part: Buffer) => {
      body += part.toString('utf8');
    });
    req.on('end', () => {
      if (req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'bench' }] }),
        );
        return;
      }
      if (body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const word of ['Hello', ' there', ',', ' friend', '.']) res.write(chunk(word));
        res.end(`${usageChunk}data: [DONE]\n\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      res.end(completion);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
}

async function runPassthrough(upstream: string): Promise<void> {
  const pool = new Pool(upstream, { connections: 128, pipelining: 1 });
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    pool
      .request({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'POST', headers, body: req })
      .then(({ statusCode, headers: upstreamHeaders, body }) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(upstreamHeaders)) {
          if (value !== undefined && name !== 'connection' && name !== 'keep-alive') out[name] = value;
        }
        res.writeHead(statusCode, out);
        body.pipe(res);
      })
      .catch(() => {
        res.writeHead(502).end();
      });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
}

async function runGateway(upstream: string, ceiling: boolean, receipts = false): Promise<void> {
  const { generatePrivateKey } = await import('viem/accounts');
  const { gatewayLogger } = await import('../src/gateway/app.ts');
  const { epochAt } = await import('../src/core/epoch.ts');
  const { openSqliteLedger } = await import('../src/ledger/sqlite/sqliteLedger.ts');
  const { createProviderRegistry } = await import('../src/gateway/providers/index.ts');
  const { startGatewayServer } = await import('../src/gateway/server.ts');
  const directory = mkdtempSync(join(tmpdir(), 'perdiem-gw-bench-'));
  const ledger = openSqliteLedger({ path: join(directory, 'ledger.sqlite'), clock: Date.now });
  const account = await ledger.createAccount();
  await ledger.setDiemAllowance(account.id, epochAt(Date.now()), 10n ** 15n);
  const { secret } = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'bench' });
  const registry = createProviderRegistry(
    [
      {
        kind: 'openai',
        id: 'bench',
        upstreams: [{ name: 'upstream', baseUrl: `${upstream}/v1` }],
        models: [{ id: model }],
      },
    ],
    { now: Date.now, llama: () => Promise.reject(new Error('no llama in this bench')) },
  );
  const server = await startGatewayServer({
    ledger: ceiling ? storageFree(ledger) : ledger,
    registry,
    // The `receipts` path: every metered answer carries a signed EIP-712 receipt, as under `perdiem up`.
    ...(receipts ? { receiptKey: { privateKey: generatePrivateKey(), chainId: 31337 } } : {}),
    prices: {
      versions: [
        {
          effectiveFromMs: 0,
          models: { [model]: { kind: 'text', inputPer1M: 150_000_000n, outputPer1M: 600_000_000n } },
        },
      ],
    },
    // Every request logs its access line at info, as in production, through the gateway's default logger
    // (asynchronous, batched writes); the lines go to /dev/null rather than a terminal.
    logger: gatewayLogger('info', '/dev/null'),
    rateLimits: {
      key: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
      account: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
    },
  });
  console.log(`listening ${server.port} ${secret}`);
  process.once('SIGTERM', () => {
    void server.close().then(async () => {
      await ledger.close();
      rmSync(directory, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/**
 * The diagnostic `ceiling` path: `ledger` with reserve, settle and void answered from memory, one loop turn later
 * (where the SQLite group commit would answer). Everything else (auth, key lookups) still goes to `ledger`.
 */
function storageFree(ledger: Ledger): Ledger {
  const live = new Map<string, Reservation>();
  let next = 0;
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const answers: Pick<Ledger, 'reserve' | 'settle' | 'void'> = {
    async reserve(input) {
      const now = Date.now();
      const reservation: Reservation = {
        id: String(++next),
        accountId: input.accountId,
        keyId: input.keyId,
        idempotencyKey: input.idempotencyKey,
        requestId: input.requestId ?? input.idempotencyKey,
        requestHash: input.requestHash ?? null,
        owner: ledger.instanceId,
        model: input.model,
        source: 'DIEM',
        epoch: 0,
        month: '1970-01',
        amountNano: input.amountNano,
        status: 'RESERVED',
        chargedNano: null,
        lossNano: null,
        createdAtMs: now,
        expiresAtMs: now + (input.ttlMs ?? 60_000),
        finishedAtMs: null,
      };
      live.set(reservation.id, reservation);
      await turn();
      return { reservation, replayed: false, available: { DIEM: 10n ** 15n, CREDITS: 0n, USD: 0n } };
    },
    async settle(input) {
      const reservation = live.get(input.reservationId)!;
      live.delete(input.reservationId);
      const chargedNano = input.lines.reduce((sum, line) => sum + line.amountNano, 0n);
      await turn();
      return {
        reservation: { ...reservation, status: 'SETTLED', chargedNano, lossNano: 0n, finishedAtMs: Date.now() },
        replayed: false,
      };
    },
    async void(reservationId) {
      const reservation = live.get(reservationId)!;
      live.delete(reservationId);
      await turn();
      return { ...reservation, status: 'VOIDED', finishedAtMs: Date.now() };
    },
  };
  return Object.assign(Object.create(ledger) as Ledger, answers);
}

// ---------------------------------------------------------------- load generator

interface Started {
  child: ChildProcess;
  port: number;
  extra: string[];
}

function start(role: string, ...args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [import.meta.filename, role, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString('utf8');
      const match = /listening (\d+)(.*)\n/.exec(output);
      if (match) resolve({ child, port: Number(match[1]), extra: match[2]!.trim().split(' ').filter(Boolean) });
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

interface Target {
  name: 'direct' | 'passthrough' | 'gateway' | 'ceiling' | 'receipts';
  pool: Pool;
  headers: Record<string, string>;
}

async function once(target: Target, body: string): Promise<void> {
  const response = await target.pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: target.headers,
    body,
  });
  if (response.statusCode !== 200)
    throw new Error(`${target.name}: ${response.statusCode} ${await response.body.text()}`);
  await response.body.dump();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** User + system CPU of a process (all its threads), from /proc; null where there is none. */
function cpuUs(pid: number | undefined): number | null {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return null;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100;
}

async function latency(target: Target): Promise<{ p50Ms: number; p99Ms: number; samples: number }> {
  for (let i = 0; i < 300; i++) await once(target, requestBody);
  const samples: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until && samples.length < 200_000) {
    const begun = performance.now();
    await once(target, requestBody);
    samples.push(performance.now() - begun);
  }
  samples.sort((a, b) => a - b);
  return { p50Ms: round(percentile(samples, 0.5)), p99Ms: round(percentile(samples, 0.99)), samples: samples.length };
}

async function throughput(target: Target): Promise<{ rps: number; requests: number }> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      await once(target, requestBody);
      done++;
    }
  };
  const begun = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: Math.round(done / ((performance.now() - begun) / 1000)), requests: done };
}

/** Time to the first content chunk of a stream, p50 over sequential requests. */
async function ttft(target: Target): Promise<number> {
  const samples: number[] = [];
  const until = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < until && samples.length < 100_000) {
    const begun = performance.now();
    const response = await target.pool.request({
      path: '/v1/chat/completions',
      method: 'POST',
      headers: target.headers,
      body: streamBody,
    });
    let first = 0;
    for await (const part of response.body) {
      if (first === 0 && (part as Buffer).includes('"content"')) first = performance.now() - begun;
    }
    if (i++ >= 100) samples.push(first);
  }
  samples.sort((a, b) => a - b);
  return percentile(samples, 0.5);
}

async function main(): Promise<void> {
  const upstream = await start('upstream');
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const passthrough = await start('passthrough', upstreamUrl);
  const gateway = await start('gateway', upstreamUrl);
  const ceiling = withCeiling ? await start('ceiling', upstreamUrl) : null;
  const receipts = withReceipts ? await start('receipts', upstreamUrl) : null;
  const json = { 'content-type': 'application/json' };
  const pool = (port: number) => new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
  const bearer = (started: Started) => ({ ...json, authorization: `Bearer ${started.extra[0]}` });
  const targets: Target[] = [
    { name: 'direct', pool: pool(upstream.port), headers: json },
    { name: 'passthrough', pool: pool(passthrough.port), headers: json },
    { name: 'gateway', pool: pool(gateway.port), headers: bearer(gateway) },
  ];
  if (ceiling) targets.push({ name: 'ceiling', pool: pool(ceiling.port), headers: bearer(ceiling) });
  if (receipts) targets.push({ name: 'receipts', pool: pool(receipts.port), headers: bearer(receipts) });
  const children: Partial<Record<Target['name'], Started>> = {
    gateway,
    ...(ceiling ? { ceiling } : {}),
    ...(receipts ? { receipts } : {}),
  };
  type Row = { p50Ms: number; p99Ms: number; rps: number; cpuUsPerRequest?: number | null };
  const rounds: {
    direct: Row;
    passthrough: Row;
    gateway: Row;
    ceiling?: Row;
    receipts?: Row;
    ttftAddedMs: number;
    gatewayCpuUsPerRequest: number | null;
  }[] = [];
  try {
    // Rounds interleave the three paths, so a burst of load from another tenant of this shared machine lands on all
    // of them rather than on one; each figure is the median over rounds, with the range kept beside it.
    for (let r = 0; r < roundsCount; r++) {
      const row = {} as Record<Target['name'], Row>;
      for (const target of targets) {
        const measured = await latency(target);
        const pid = children[target.name]?.child.pid;
        const cpuBefore = cpuUs(pid);
        const { rps, requests } = await throughput(target);
        const cpuAfter = cpuUs(pid);
        const cpu = cpuBefore !== null && cpuAfter !== null ? Math.round((cpuAfter - cpuBefore) / requests) : null;
        row[target.name] = { p50Ms: measured.p50Ms, p99Ms: measured.p99Ms, rps };
        if (cpu !== null) row[target.name].cpuUsPerRequest = cpu;
        console.log(`round ${r + 1}`, target.name, row[target.name], `${measured.samples} latency samples`);
      }
      const direct = await ttft(targets[0]!);
      const viaGateway = await ttft(targets[2]!);
      console.log(`round ${r + 1}`, 'ttft direct', round(direct), 'gateway', round(viaGateway));
      const { cpuUsPerRequest, ...gatewayRow } = row.gateway;
      rounds.push({
        ...row,
        gateway: gatewayRow,
        ttftAddedMs: round(viaGateway - direct),
        gatewayCpuUsPerRequest: cpuUsPerRequest ?? null,
      });
    }
  } finally {
    for (const target of targets) await target.pool.close();
    for (const started of [
      ...(ceiling ? [ceiling] : []),
      ...(receipts ? [receipts] : []),
      gateway,
      passthrough,
      upstream,
    ]) {
      const exited = new Promise((resolve) => started.child.once('exit', resolve));
      started.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      if (started.child.exitCode === null) started.child.kill('SIGKILL');
    }
  }
  const medianRow = (name: 'direct' | 'passthrough' | 'gateway'): Row => ({
    p50Ms: median(rounds.map((r) => r[name].p50Ms)),
    p99Ms: median(rounds.map((r) => r[name].p99Ms)),
    rps: Math.round(median(rounds.map((r) => r[name].rps))),
  });
  // The diagnostic path: its throughput against the pass-through, within each round, and its CPU per request.
  const ceilingRounds = rounds.flatMap((r) => (r.ceiling ? [{ ceiling: r.ceiling, passthrough: r.passthrough }] : []));
  const ceilingRatios = ceilingRounds.map((r) => Math.round((r.ceiling.rps / r.passthrough.rps) * 1000) / 1000);
  const ceilingCpu = ceilingRounds.flatMap((r) => (r.ceiling.cpuUsPerRequest ? [r.ceiling.cpuUsPerRequest] : []));
  // The receipts path: its throughput against the plain gateway, within each round, and its CPU per request.
  const receiptRounds = rounds.flatMap((r) => (r.receipts ? [{ receipts: r.receipts, gateway: r.gateway }] : []));
  const receiptRatios = receiptRounds.map((r) => Math.round((r.receipts.rps / r.gateway.rps) * 1000) / 1000);
  const receiptCpu = receiptRounds.flatMap((r) => (r.receipts.cpuUsPerRequest ? [r.receipts.cpuUsPerRequest] : []));
  const diagnostics =
    ceilingRounds.length > 0 || receiptRounds.length > 0
      ? {
          ...(ceilingRounds.length > 0
            ? {
                ceiling: {
                  about: 'the gateway with reserve, settle and void answered from memory: no ledger storage at all',
                  rps: Math.round(median(ceilingRounds.map((r) => r.ceiling.rps))),
                  vsPassthrough: median(ceilingRatios),
                  vsPassthroughRange: [Math.min(...ceilingRatios), Math.max(...ceilingRatios)],
                  cpuUsPerRequest: ceilingCpu.length > 0 ? median(ceilingCpu) : null,
                },
              }
            : {}),
          ...(receiptRounds.length > 0
            ? {
                receipts: {
                  about: 'the metered gateway signing an EIP-712 receipt for every charge (as `perdiem up` runs it)',
                  rps: Math.round(median(receiptRounds.map((r) => r.receipts.rps))),
                  p50Ms: median(receiptRounds.map((r) => r.receipts.p50Ms)),
                  vsGateway: median(receiptRatios),
                  vsGatewayRange: [Math.min(...receiptRatios), Math.max(...receiptRatios)],
                  cpuUsPerRequest: receiptCpu.length > 0 ? median(receiptCpu) : null,
                },
              }
            : {}),
        }
      : null;
  const results = {
    direct: medianRow('direct'),
    passthrough: medianRow('passthrough'),
    gateway: { ...medianRow('gateway'), ttftAddedMs: median(rounds.map((r) => r.ttftAddedMs)) },
  };
  const direct = results.direct;
  const pass = results.passthrough;
  const gw = results.gateway;
  // Added latency and the throughput ratio are taken within each round (same minute, same neighbours), then the median.
  const addedP50 = rounds.map((r) => round(r.gateway.p50Ms - r.direct.p50Ms));
  const addedP99 = rounds.map((r) => round(r.gateway.p99Ms - r.direct.p99Ms));
  const ratios = rounds.map((r) => Math.round((r.gateway.rps / r.passthrough.rps) * 1000) / 1000);
  const added = { p50Ms: median(addedP50), p99Ms: median(addedP99) };
  const throughputRatio = median(ratios);
  const range = (values: number[]) => [Math.min(...values), Math.max(...values)];
  const cpuSamples = rounds.map((r) => r.gatewayCpuUsPerRequest).filter((v): v is number => v !== null);
  const output = {
    direct,
    passthrough: pass,
    gateway: gw,
    added,
    throughputVsPassthrough: throughputRatio,
    ranges: {
      addedP50Ms: range(addedP50),
      addedP99Ms: range(addedP99),
      throughputVsPassthrough: range(ratios),
      ttftAddedMs: range(rounds.map((r) => r.ttftAddedMs)),
    },
    gatewayCpuUsPerRequest: cpuSamples.length > 0 ? median(cpuSamples) : null,
    ...(diagnostics ? { diagnostics } : {}),
    rounds,
    targets: {
      addedP50Ms: 0.5,
      addedP99Ms: 2,
      throughputVsPassthrough: 0.5,
      met: { addedP50: added.p50Ms <= 0.5, addedP99: added.p99Ms <= 2, throughput: throughputRatio >= 0.5 },
    },
    setup: {
      secondsPerPhase: seconds,
      rounds: roundsCount,
      latencyConcurrency: 1,
      throughputConcurrency: concurrency,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
      node: process.version,
      date: new Date().toISOString(),
    },
  };
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gateway.json'), `${JSON.stringify(output, null, 2)}\n`);
  const row = (name: string, r: { p50Ms: number; p99Ms: number; rps: number }) =>
    `| ${name} | ${r.p50Ms} | ${r.p99Ms} | ${r.rps} |`;
  writeFileSync(
    join(dir, 'gateway.md'),
    [
      '# Gateway benchmark',
      '',
      `\`npm run bench:gateway\`, ${roundsCount} interleaved rounds of ${seconds} s per phase, on ${output.setup.cpus}, Node`,
      `${process.version}. Latency is one request at a time (after 300 warm-up requests); throughput is ${concurrency} in`,
      'flight. All three paths call the same upstream over keep-alive connections. The upstream, the pass-through proxy',
      'and the gateway each run in their own process on loopback; the load generator is this process. The gateway',
      'meters fully on a SQLite file (auth, zod validation, rate limits, reserve, settle with usage rows and journal) and',
      'logs every request at info through its default logger (asynchronous, batched writes) to /dev/null. Figures are',
      'medians over rounds; added latency and the throughput ratio are taken within each round. The machine is shared.',
      '',
      '| Path | p50 ms | p99 ms | req/s |',
      '| --- | ---: | ---: | ---: |',
      row('direct', direct),
      row('undici pass-through', pass),
      row('gateway (metered)', gw),
      '',
      `Added by the gateway over direct: p50 ${added.p50Ms} ms (range ${output.ranges.addedP50Ms.join('–')}; target ≤ 0.5),`,
      `p99 ${added.p99Ms} ms (range ${output.ranges.addedP99Ms.join('–')}; target ≤ 2).`,
      `Throughput: ${Math.round(throughputRatio * 100)}% of the pass-through proxy (range ${output.ranges.throughputVsPassthrough.map((r) => `${Math.round(r * 100)}%`).join('–')}; target ≥ 50%).`,
      `Streaming time to first token added: ${gw.ttftAddedMs} ms (range ${output.ranges.ttftAddedMs.join('–')}).`,
      `Gateway CPU per request in the throughput phase: ${output.gatewayCpuUsPerRequest ?? 'n/a'} µs (all its threads).`,
      ...(diagnostics?.receipts
        ? [
            '',
            `With receipts (BENCH_RECEIPTS=1): the metered gateway signing an EIP-712 receipt for every charge reaches`,
            `${diagnostics.receipts.rps} req/s, ${Math.round(diagnostics.receipts.vsGateway * 100)}% of the same gateway without (range ${diagnostics.receipts.vsGatewayRange.map((r) => `${Math.round(r * 100)}%`).join('–')}), p50 ${diagnostics.receipts.p50Ms} ms, ${diagnostics.receipts.cpuUsPerRequest ?? 'n/a'} µs of CPU per request.`,
          ]
        : []),
      ...(diagnostics?.ceiling
        ? [
            '',
            `Diagnostic (BENCH_CEILING=1; not a product configuration): the same gateway with reserve, settle and void`,
            `answered from memory, no ledger storage at all, reaches ${diagnostics.ceiling.rps} req/s,`,
            `${Math.round(diagnostics.ceiling.vsPassthrough * 100)}% of the pass-through (range ${diagnostics.ceiling.vsPassthroughRange.map((r) => `${Math.round(r * 100)}%`).join('–')}), at ${diagnostics.ceiling.cpuUsPerRequest ?? 'n/a'} µs of CPU per request.`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  console.log(JSON.stringify(output, null, 2));
}

const role = process.argv[2];
if (role === 'upstream') await runUpstream();
else if (role === 'passthrough') await runPassthrough(process.argv[3]!);
else if (role === 'gateway') await runGateway(process.argv[3]!, false);
else if (role === 'ceiling') await runGateway(process.argv[3]!, true);
else if (role === 'receipts') await runGateway(process.argv[3]!, false, true);
else await main();
