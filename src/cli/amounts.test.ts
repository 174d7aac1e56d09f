/** Amount parsing and the argument errors every verb shares, through `main(argv, io)` in-process. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  durationText,
  formatToken,
  isoSeconds,
  parseCountSetting,
  parseIsoOption,
  parseTokenAmount,
  parseTokenSetting,
  parseUsdOption,
} from './amounts.ts';
import { bpsText } from './emissions.ts';
import { main } from './main.ts';
import { captureIo } from './testing/captureIo.ts';

const wad = 10n ** 18n;

describe('parseTokenAmount', () => {
  it('parses whole tokens exactly, up to 18 decimals', () => {
    expect(parseTokenAmount('100', 'x')).toBe(100n * wad);
    expect(parseTokenAmount('0.5', 'x')).toBe(wad / 2n);
    expect(parseTokenAmount(' 1.000000000000000001 ', 'x')).toBe(wad + 1n);
    expect(parseTokenAmount('123456789.123456789123456789', 'x')).toBe(123456789123456789123456789n);
  });

  it.each([
    ['-1', /must not be negative/],
    ['-0.5', /must not be negative/],
    ['abc', /must be a decimal number of tokens/],
    ['1e18', /must be a decimal number of tokens/],
    ['0x10', /must be a decimal number of tokens/],
    ['1,000', /must be a decimal number of tokens/],
    ['.5', /must be a decimal number of tokens/],
    ['1.', /must be a decimal number of tokens/],
    ['', /must be a decimal number of tokens/],
    ['0.0000000000000000001', /more than 18 decimals/],
    ['0', /must be more than 0/],
    ['0.000', /must be more than 0/],
  ])('rejects %j', (text, message) => {
    expect(() => parseTokenAmount(text, 'amount')).toThrow(message);
  });
});

describe('deploy settings', () => {
  it('parses token settings exactly, 0 included', () => {
    expect(parseTokenSetting('0', '--x')).toBe(0n);
    expect(parseTokenSetting('10000000', '--x')).toBe(10_000_000n * wad);
    expect(parseTokenSetting('0.000000000000000001', '--x')).toBe(1n);
    expect(parseTokenSetting('5000000.5', '--x')).toBe(5_000_000n * wad + wad / 2n);
  });

  it.each(['1e6', '-1', '1,000', '.5', '0x10', ''])('rejects the token setting %j', (text) => {
    expect(() => parseTokenSetting(text, '--x')).toThrow(/--x must be a decimal number of tokens/);
  });

  it('parses counts as whole non-negative numbers only', () => {
    expect(parseCountSetting('0', '--n')).toBe(0n);
    expect(parseCountSetting('31536000', '--n')).toBe(31_536_000n);
    for (const bad of ['1.5', '-1', '1e3', 'abc', '']) {
      expect(() => parseCountSetting(bad, '--n')).toThrow(/--n must be a whole number/);
    }
  });

  it('prints spans in their two largest units, times in UTC and basis points as percents', () => {
    expect(durationText(0n)).toBe('0 seconds');
    expect(durationText(1n)).toBe('1 second');
    expect(durationText(172_800n)).toBe('2 days');
    expect(durationText(172_799n)).toBe('1 day 23 hours');
    expect(durationText(3_661n)).toBe('1 hour 1 minute');
    expect(durationText(86_460n)).toBe('1 day');
    expect(isoSeconds(1_767_225_600n)).toBe('2026-01-01T00:00:00Z');
    expect(bpsText(1_500n)).toBe('15%');
    expect(bpsText(1_234n)).toBe('12.34%');
    expect(bpsText(5n)).toBe('0.05%');
    expect(bpsText(10_000n)).toBe('100%');
  });
});

describe('formatToken', () => {
  it('prints exactly, grouped, without trailing zeros', () => {
    expect(formatToken(0n)).toBe('0');
    expect(formatToken(9_000n * wad + wad / 4n)).toBe('9,000.25');
    expect(formatToken(1n)).toBe('0.000000000000000001');
    expect(formatToken(1_234_567n * wad)).toBe('1,234,567');
  });
});

describe('USD and time options', () => {
  it('accepts USD prices with at most 9 decimals', () => {
    expect(parseUsdOption('0.2', '--x')).toBe('0.2');
    expect(parseUsdOption('0.000000001', '--x')).toBe('0.000000001');
    expect(() => parseUsdOption('0.0000000001', '--x')).toThrow(/more than 9 decimals/);
    expect(() => parseUsdOption('-1', '--x')).toThrow(/non-negative/);
    expect(() => parseUsdOption('cheap', '--x')).toThrow(/non-negative/);
  });

  it('normalises ISO times to UTC and rejects anything else', () => {
    expect(parseIsoOption('2030-01-01T01:00:00+01:00', '--x')).toBe('2030-01-01T00:00:00.000Z');
    expect(() => parseIsoOption('tomorrow', '--x')).toThrow(/ISO-8601/);
    expect(() => parseIsoOption('1700000000', '--x')).toThrow(/ISO-8601/);
  });
});

describe('argument errors', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'perdiem-cli-args-'));
  async function run(...argv: string[]) {
    const captured = captureIo(cwd);
    const code = await main(argv, captured.io);
    return { code, out: captured.stdout(), err: captured.stderr() };
  }

  it('exits 2 with the usage for a bad amount, before touching the chain', async () => {
    const { code, err } = await run('stake', '-5', '--rpc', 'http://127.0.0.1:9');
    expect(code).toBe(2);
    expect(err).toMatch(/^perdiem stake: amounts must not be negative: -5\n\nusage: perdiem stake AMOUNT/);
  });

  it('exits 2 for a missing amount, an extra argument, or an unknown flag', async () => {
    expect((await run('mint')).err).toMatch(/^perdiem mint: missing the DIEM amount/);
    expect((await run('stake-diem', '1', '2')).err).toMatch(/^perdiem stake-diem: unexpected arguments: 2/);
    expect((await run('withdraw', '5')).err).toMatch(/^perdiem withdraw: unexpected arguments: 5/);
    const unknown = await run('burn', '1', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^perdiem burn: Unknown option '--bogus'/);
  });

  it('rejects a bad --max-svvv and a bad --private-key', async () => {
    const max = await run('mint', '1', '--max-svvv', '1.2.3', '--rpc', 'http://127.0.0.1:9');
    expect(max.code).toBe(2);
    expect(max.err).toMatch(/--max-svvv must be a decimal number of tokens/);
    const key = await run('stake', '1', '--rpc', 'http://127.0.0.1:9', '--contracts', 'x', '--private-key', '0x12');
    expect(key.code).toBe(2);
  });

  it('says what is missing when there is no state file and no flags', async () => {
    const { code, err } = await run('stake', '1');
    expect(code).toBe(2);
    expect(err).toMatch(/^perdiem stake: no RPC: pass --rpc URL or run `perdiem up` first/);
  });

  it('prints every verb in the help', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    for (const verb of [
      'stake',
      'unstake',
      'withdraw',
      'mint',
      'burn',
      'stake-diem',
      'unstake-diem',
      'withdraw-diem',
      'transfer-svvv',
      'emissions',
    ]) {
      expect(out).toMatch(new RegExp(`^  ${verb} `, 'm'));
    }
  });
});
