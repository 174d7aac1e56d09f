/**
 * The accounts, wallets and keys every Ledger adapter must show (AccountsLedger). `describeLedgerConformance`
 * (../conformance.ts) runs it once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt } from '../../core/epoch.ts';
import { day, expectError, fundedAccountOn, randomWallet, reserveOn, start, usd } from '../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { Ledger, ReserveInput } from '../types.ts';

export function describeAccountsConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: accounts`, () => {
    let clock: FakeClock;
    let ledger: Ledger;

    beforeEach(async () => {
      clock = fakeClock(start);
      ledger = await harness.open(clock.now);
    });
    afterEach(async () => {
      await ledger.close();
    });

    const fundedAccount = (funds: { diem?: bigint; credits?: bigint; usd?: bigint } = {}) =>
      fundedAccountOn(ledger, clock, funds);
    const reserve = (accountId: string, amountNano: bigint, extra: Partial<ReserveInput> = {}) =>
      reserveOn(ledger, accountId, amountNano, extra);

    it('opens an account with empty balances and reports the next epoch', async () => {
      const account = await ledger.createAccount({ name: 'alice' });
      expect(await ledger.getAccount(account.id)).toEqual(account);
      const balance = await ledger.balance(account.id);
      expect(balance.epoch).toBe(epochAt(start));
      expect(balance.nextEpochBegins).toBe('2025-01-16T00:00:00.000Z');
      expect(balance.diem).toEqual({ allowanceNano: 0n, spentNano: 0n, reservedNano: 0n, availableNano: 0n });
      expect(balance.credits).toEqual({ availableNano: 0n, reservedNano: 0n });
      await expectError(ledger.createAccount({ id: account.id }), 409, 'account_exists');
      await expectError(ledger.balance('nope'), 404, 'account_not_found');
    });

    it('authenticates a secret shown once, and refuses revoked, expired, foreign and model-restricted keys', async () => {
      const account = await fundedAccount({ usd: usd(10) });
      const { key, secret } = await ledger.createKey({
        accountId: account.id,
        kind: 'ADMIN',
        name: 'admin',
        allowedModels: ['m'],
        expiresAtMs: start + day,
      });
      expect(secret.startsWith(key.secretPrefix)).toBe(true);
      expect(JSON.stringify(await ledger.getKey(key.id))).not.toContain(secret);
      expect((await ledger.authenticate(secret)).id).toBe(key.id);
      await expectError(ledger.authenticate(`${secret}x`), 401, 'invalid_api_key');
      await expectError(reserve(account.id, 1n, { keyId: key.id, model: 'other' }), 403, 'model_not_allowed');
      const other = await ledger.createAccount();
      await expectError(reserve(other.id, 1n, { keyId: key.id }), 401, 'invalid_api_key');
      clock.advance(day);
      await expectError(ledger.authenticate(secret), 401, 'api_key_expired');
      await expectError(reserve(account.id, 1n, { keyId: key.id }), 401, 'api_key_expired');
      await ledger.updateKey(key.id, { expiresAtMs: null, allowedModels: null, name: 'renamed' });
      expect((await reserve(account.id, 1n, { keyId: key.id, model: 'other' })).replayed).toBe(false);
      const revoked = await ledger.revokeKey(key.id);
      expect(revoked.revokedAtMs).toBe(clock.now());
      await expectError(ledger.authenticate(secret), 401, 'api_key_revoked');
      await expectError(reserve(account.id, 1n, { keyId: key.id }), 401, 'api_key_revoked');
      expect((await ledger.listKeys(account.id)).map((k) => k.name)).toEqual(['renamed']);
      await expectError(ledger.revokeKey('missing'), 404, 'key_not_found');
    });

    it('validates key limits', async () => {
      const account = await ledger.createAccount();
      const limit = { currency: 'USD' as const, period: 'EPOCH' as const, amountNano: 1n };
      await expectError(
        ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'k', limits: [limit, limit] }),
        400,
        'invalid_request',
      );
      await expectError(
        ledger.createKey({ accountId: 'missing', kind: 'INFERENCE', name: 'k' }),
        404,
        'account_not_found',
      );
    });

    it('lists linked wallets with their accounts', async () => {
      const account = await ledger.createAccount();
      const wallet = `0x${Math.random().toString(16).slice(2).padEnd(40, '0').slice(0, 40)}`;
      await ledger.linkWallet(account.id, wallet);
      expect(await ledger.listWallets()).toContainEqual({ accountId: account.id, address: wallet.toLowerCase() });
    });

    it('links a wallet to one account', async () => {
      const a = await ledger.createAccount();
      const b = await ledger.createAccount();
      const wallet = '0xAbCdEf0123456789abcdef0123456789ABCDEF01';
      await ledger.linkWallet(a.id, wallet);
      await ledger.linkWallet(a.id, wallet.toLowerCase());
      expect((await ledger.accountByWallet(wallet))?.id).toBe(a.id);
      await expectError(ledger.linkWallet(b.id, wallet), 409, 'wallet_linked');
      await expectError(ledger.linkWallet(b.id, '0x12'), 400, 'invalid_request');
      expect(await ledger.accountByWallet(`0x${'0'.repeat(40)}`)).toBeNull();
    });

    it("lists an account's wallets oldest first, with when each was linked, and no other account's", async () => {
      const a = await ledger.createAccount();
      const b = await ledger.createAccount();
      const [first, second, theirs] = [randomWallet(), randomWallet(), randomWallet()];
      expect(await ledger.walletsOfAccount(a.id)).toEqual([]);
      await ledger.linkWallet(a.id, first);
      const firstAtMs = clock.now();
      clock.advance(1_000);
      await ledger.linkWallet(b.id, theirs);
      await ledger.linkWallet(a.id, second);
      // Linked again: no new row, the first link's time stays.
      clock.advance(1_000);
      await ledger.linkWallet(a.id, first);
      expect(await ledger.walletsOfAccount(a.id)).toEqual([
        { address: first.toLowerCase(), accountId: a.id, linkedAtMs: firstAtMs },
        { address: second.toLowerCase(), accountId: a.id, linkedAtMs: firstAtMs + 1_000 },
      ]);
      expect(await ledger.walletsOfAccount('missing')).toEqual([]);
    });

    it('keeps the last 6 characters of the secret and per-key rate-limit overrides', async () => {
      const account = await ledger.createAccount();
      const { key, secret } = await ledger.createKey({
        accountId: account.id,
        kind: 'INFERENCE',
        name: 'k',
        rateLimits: { requestsPerMinute: 60, tokensPerMinute: null },
      });
      expect(key.secretLast6).toBe(secret.slice(-6));
      expect(key.secretLast6).toHaveLength(6);
      expect(key.rateLimits).toEqual({ requestsPerMinute: 60, tokensPerMinute: null });
      expect(await ledger.getKey(key.id)).toEqual(key);
      expect(await ledger.authenticate(secret)).toEqual(key);
      const both = { requestsPerMinute: null, tokensPerMinute: 1_000_000_000 };
      expect((await ledger.updateKey(key.id, { rateLimits: both })).rateLimits).toEqual(both);
      expect((await ledger.updateKey(key.id, { name: 'renamed' })).rateLimits).toEqual(both);
      expect((await ledger.updateKey(key.id, { rateLimits: null })).rateLimits).toBeNull();
      const plain = await ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'plain' });
      expect(plain.key.rateLimits).toBeNull();
      for (const [rateLimits, param] of [
        [{ requestsPerMinute: 0, tokensPerMinute: null }, 'rateLimits.requestsPerMinute'],
        [{ requestsPerMinute: 1.5, tokensPerMinute: null }, 'rateLimits.requestsPerMinute'],
        [{ requestsPerMinute: null, tokensPerMinute: 1_000_000_001 }, 'rateLimits.tokensPerMinute'],
      ] as const) {
        await expectError(ledger.updateKey(key.id, { rateLimits }), 400, 'invalid_request', param);
        await expectError(
          ledger.createKey({ accountId: account.id, kind: 'INFERENCE', name: 'bad', rateLimits }),
          400,
          'invalid_request',
          param,
        );
      }
      expect((await ledger.getKey(key.id))?.rateLimits).toBeNull();
    });
  });
}
