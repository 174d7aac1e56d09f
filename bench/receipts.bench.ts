/**
 * What a signed receipt costs the gateway per charge: building the EIP-712 digest (the gateway's own encoder, beside
 * viem's generic hashTypedData, which must agree), then the secp256k1 signature (viem's, deterministic), on one core. Prints and writes bench/results/receipts.json with the
 * median of each over `BENCH_RECEIPTS` receipts (default 2,000) and the load average around the run, because the
 * machine may be shared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { hashTypedData } from 'viem';
import { generatePrivateKey, sign } from 'viem/accounts';
import { type ChargeRecord, receiptDomain, receiptOf, receiptTypedData } from '../src/core/receipt.ts';
import { receiptDigester } from '../src/core/receiptDigest.ts';

const count = Number(process.env.BENCH_RECEIPTS ?? 2_000);
const privateKey = generatePrivateKey();
const domain = receiptDomain(31337);
const charge: ChargeRecord = {
  requestId: 'req_0000',
  accountId: 'acct_bench',
  model: 'perdiem-demo',
  source: 'DIEM',
  chargedNano: 123_456n,
  finishedAtMs: Date.UTC(2026, 0, 1),
  priceSheetHash: `0x${'ab'.repeat(32)}`,
  lines: [
    { sku: 'text.input', units: 120 },
    { sku: 'text.output', units: 40 },
  ],
};

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const loadBefore = loadavg()[0]!;
const digest = receiptDigester(domain);
const viemHashUs: number[] = [];
const hashUs: number[] = [];
const signUs: number[] = [];
// Alternated per receipt, so that both digests see the same load: viem's generic hashTypedData and the gateway's own.
for (let i = 0; i < count; i++) {
  const receipt = receiptOf({ ...charge, requestId: `req_${i}` });
  let t = performance.now();
  const viemHash = hashTypedData(receiptTypedData(domain, receipt));
  viemHashUs.push((performance.now() - t) * 1000);
  t = performance.now();
  const hash = digest(receipt);
  hashUs.push((performance.now() - t) * 1000);
  if (hash !== viemHash) throw new Error(`digests differ for receipt ${i}`);
  t = performance.now();
  await sign({ hash, privateKey });
  signUs.push((performance.now() - t) * 1000);
}
const result = {
  receipts: count,
  viemHashTypedDataUsP50: Math.round(median(viemHashUs)),
  typedDataHashUsP50: Math.round(median(hashUs)),
  signatureUsP50: Math.round(median(signUs)),
  machine: { cpus: cpus().length, loadAverage: [loadBefore, loadavg()[0]!] },
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'receipts.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
