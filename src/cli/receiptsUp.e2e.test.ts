/**
 * Receipts the way an operator's user meets them: `perdiem up`, a request, `perdiem receipts verify` against the
 * signer `up` wrote to state.json; then SIGKILL of `up`, the same `perdiem up` again, and the receipt is still served,
 * byte for byte (the same signature, rebuilt from the ledger), and still verifies. A charge whose ledger record was
 * altered while the gateway was down fails `verify` (its cost no longer agrees with the usage history), as does a
 * receipt checked against another signer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeReceiptHeader, receiptHeader, type SignedReceipt } from '../core/receipt.ts';
import { main } from './main.ts';
import { captureIo } from './testing/captureIo.ts';
import { startUpProcess, stopUpProcess, type UpProcess } from './testing/upProcess.ts';

const home = mkdtempSync(path.join(tmpdir(), 'perdiem-up-receipts-'));
const ask = { model: 'perdiem-demo', messages: [{ role: 'user' as const, content: 'Hello' }], max_tokens: 6 };

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const captured = captureIo(home);
  const code = await main([...argv, '--home', home], captured.io);
  return { code, out: captured.stdout(), err: captured.stderr() };
}

describe('perdiem receipts verify through perdiem up, across a SIGKILL', { timeout: 240_000 }, () => {
  let first: UpProcess | undefined;
  let second: UpProcess | undefined;
  afterAll(async () => {
    if (second) await stopUpProcess(second);
    try {
      if (first?.child.pid) process.kill(-first.child.pid, 'SIGKILL');
    } catch {}
    rmSync(home, { recursive: true, force: true });
  });

  it('verifies a receipt, serves the same one after a crash and restart, and fails a tampered charge', async () => {
    first = await startUpProcess(home);
    const { state } = first;
    expect(state.receipts?.chainId).toBe(state.chainId);
    const signer = state.receipts!.signer;
    const openai = new OpenAI({ baseURL: `${state.gatewayUrl}/v1`, apiKey: state.demo!.apiKey, maxRetries: 0 });
    const asked = async () => {
      const { response } = await openai.chat.completions.create(ask).withResponse();
      return { id: response.headers.get('x-request-id')!, header: response.headers.get(receiptHeader)! };
    };
    const kept = await asked();
    const altered = await asked();
    expect(decodeReceiptHeader(kept.header).signer).toBe(signer);

    const verified = await cli('receipts', 'verify', kept.id, '--json');
    expect(verified.err).toBe('');
    expect(JSON.parse(verified.out)).toEqual({
      requestId: kept.id,
      signer,
      signatureValid: true,
      ok: true,
      failures: [],
    });
    expect(verified.code).toBe(0);
    const before = JSON.parse((await cli('receipts', 'get', kept.id, '--json')).out) as SignedReceipt;
    expect(before).toEqual(decodeReceiptHeader(kept.header));

    // Someone else's key is not the operator's: the same receipt fails against it.
    const stranger = privateKeyToAccount(generatePrivateKey()).address;
    const wrongSigner = await cli('receipts', 'verify', kept.id, '--signer', stranger);
    expect(wrongSigner.code).toBe(1);
    expect(wrongSigner.out).toContain('does NOT verify');

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first!.child.once('exit', resolve));
    // While the gateway is down, one charge's record is altered: a nano-USD less than its usage rows say.
    const db = new DatabaseSync(path.join(home, 'ledger.sqlite'));
    db.prepare('UPDATE reservations SET charged_nano = charged_nano - 1 WHERE request_id = ?').run(altered.id);
    db.close();

    second = await startUpProcess(home);
    expect(second.state.receipts).toEqual(state.receipts);
    const after = JSON.parse((await cli('receipts', 'get', kept.id, '--json')).out) as SignedReceipt;
    expect(after).toEqual(before);
    const again = await cli('receipts', 'verify', kept.id);
    expect(again.out).toContain('verifies');
    expect(again.code).toBe(0);

    const tampered = await cli('receipts', 'verify', altered.id, '--json');
    expect(tampered.code).toBe(1);
    const result = JSON.parse(tampered.out) as { signatureValid: boolean; failures: string[] };
    // Signed by the operator, but not what the usage history charged.
    expect(result.signatureValid).toBe(true);
    expect(result.failures.join('\n')).toMatch(/^cost: the receipt says \d+ nano-USD, the usage history \d+$/);

    const missing = await cli('receipts', 'get', 'req_unknown');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('receipt_not_found');
  });
});
