import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { receiptKeyOf } from './receiptKey.ts';

let home: string;
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('the receipt key of perdiem up', () => {
  it('takes --receipt-key when given, and writes nothing', () => {
    home = mkdtempSync(path.join(tmpdir(), 'perdiem-receipt-key-'));
    const key = generatePrivateKey();
    expect(receiptKeyOf({ home, receiptKey: key }, 31337)).toEqual({ privateKey: key, chainId: 31337 });
    expect(() => statSync(path.join(home, 'receipt-key'))).toThrow();
  });

  it('creates one key in the home, readable by its owner only, and keeps it across starts', () => {
    home = mkdtempSync(path.join(tmpdir(), 'perdiem-receipt-key-'));
    const first = receiptKeyOf({ home }, 31337);
    expect(first.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(statSync(path.join(home, 'receipt-key')).mode & 0o777).toBe(0o600);
    expect(receiptKeyOf({ home }, 8453)).toEqual({ privateKey: first.privateKey, chainId: 8453 });
  });

  it('refuses a key file that holds no key rather than replacing it', () => {
    home = mkdtempSync(path.join(tmpdir(), 'perdiem-receipt-key-'));
    writeFileSync(path.join(home, 'receipt-key'), 'not a key\n');
    expect(() => receiptKeyOf({ home }, 31337)).toThrow(/does not hold a 0x-prefixed 32-byte hex key/);
  });
});
