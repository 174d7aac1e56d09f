/** `perdiem wallets` arguments: usage mistakes exit 2 before any request. */
import { generatePrivateKey } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { captureIo } from './testing/captureIo.ts';
import { linkKeyOf } from './wallets.ts';

describe('perdiem wallets arguments', () => {
  it('takes the key of the wallet to link from --private-key, else PERDIEM_PRIVATE_KEY, and checks its form', () => {
    const [flag, variable] = [generatePrivateKey(), generatePrivateKey()];
    expect(linkKeyOf({ 'private-key': flag }, { PERDIEM_PRIVATE_KEY: variable })).toBe(flag);
    expect(linkKeyOf({}, { PERDIEM_PRIVATE_KEY: variable })).toBe(variable);
    expect(() => linkKeyOf({}, {})).toThrow(/pass --private-key or set PERDIEM_PRIVATE_KEY/);
    expect(() => linkKeyOf({ 'private-key': '0x12' }, {})).toThrow(/0x-prefixed 32-byte hex key/);
  });

  it('exits 2 with the usage on a missing or unknown action, a link without a key, or a key given to list', async () => {
    const cases: [string[], RegExp][] = [
      [['wallets'], /missing list or link/],
      [['wallets', 'unlink'], /bad arguments: unlink/],
      [['wallets', 'link'], /link needs the new wallet/],
      [['wallets', 'list', '--private-key', generatePrivateKey()], /list takes no --private-key/],
    ];
    for (const [argv, message] of cases) {
      const captured = captureIo('/nonexistent');
      expect(await main(argv, captured.io), argv.join(' ')).toBe(2);
      expect(captured.stderr()).toMatch(message);
      expect(captured.stderr()).toMatch(/usage: perdiem wallets list/);
    }
  });
});
