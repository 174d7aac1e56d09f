import { describe, expect, it } from 'vitest';
import { UsageError } from './command.ts';
import { createBody, keysCommand, limitText, parseLimit, updateBody } from './keys.ts';

describe('perdiem keys arguments', () => {
  it('parses each limit currency, the perdiem TOTAL extension among them, with EPOCH as the default period', () => {
    expect(parseLimit('5:usd')).toEqual({ amount: '5', currency: 'USD', period: 'EPOCH' });
    expect(parseLimit('20:DIEM:month')).toEqual({ amount: '20', currency: 'DIEM', period: 'MONTH' });
    expect(parseLimit('1.5:TOTAL:LIFETIME')).toEqual({ amount: '1.5', currency: 'TOTAL', period: 'LIFETIME' });
    for (const bad of ['5:EUR', '5:USD:WEEK', '5', '5:USD:EPOCH:x']) {
      expect(() => parseLimit(bad)).toThrow(/--limit must be AMOUNT:DIEM\|USD\|TOTAL\[:EPOCH\|MONTH\|LIFETIME\]/);
    }
  });

  it('sends per-key rate-limit overrides as rateLimits in the create body, only the ones given', () => {
    expect(createBody({ limit: ['2:TOTAL'], rpm: '30', tpm: '9000' })).toEqual({
      apiKeyType: 'INFERENCE',
      description: 'perdiem cli',
      limits: [{ amount: '2', currency: 'TOTAL', period: 'EPOCH' }],
      rateLimits: { requestsPerMinute: 30, tokensPerMinute: 9000 },
    });
    expect(createBody({ rpm: '5' }).rateLimits).toEqual({ requestsPerMinute: 5 });
    expect(createBody({}).rateLimits).toBeUndefined();
    for (const bad of ['0', '1.5', 'fast', '-3']) {
      expect(() => createBody({ rpm: bad })).toThrow(/--rpm must be a positive integer/);
    }
  });

  it('builds an update body of what is given, and refuses an empty one or a type change', () => {
    expect(updateBody('key_1', { name: 'bot', tpm: '100', limit: ['1:DIEM:MONTH'] })).toEqual({
      id: 'key_1',
      description: 'bot',
      limits: [{ amount: '1', currency: 'DIEM', period: 'MONTH' }],
      rateLimits: { tokensPerMinute: 100 },
    });
    expect(() => updateBody('key_1', {})).toThrow(UsageError);
    expect(() => updateBody('key_1', { type: 'ADMIN' })).toThrow(/keeps its type/);
  });

  it('shows what is left of a limit when the gateway reports it', () => {
    expect(limitText([{ currency: 'USD', period: 'EPOCH', amount: '5' }])).toBe('5 USD/EPOCH');
    expect(
      limitText([
        { currency: 'TOTAL', period: 'MONTH', amount: '5', remaining: '3.2' },
        { currency: 'DIEM', period: 'EPOCH', amount: 1, remaining: 0 },
      ]),
    ).toBe('5 TOTAL/MONTH (3.2 left), 1 DIEM/EPOCH (0 left)');
    expect(limitText([])).toBe('-');
  });

  it('help says what each limit currency covers, and does not call --api-key required', () => {
    const help = keysCommand.usage.replace(/\s+/g, ' ');
    expect(help).toContain(
      'AMOUNT:DIEM[:PERIOD] covers the DIEM allowance; AMOUNT:USD[:PERIOD] covers credits and USD; ' +
        'AMOUNT:TOTAL[:PERIOD] (perdiem extension) covers every source; PERIOD is EPOCH (default), MONTH or LIFETIME',
    );
    expect(help).toContain('by default the ADMIN key of `perdiem up`');
    expect(help).not.toMatch(/need an ADMIN key \(--api-key\)/);
    expect(help).toMatch(/--rpm N/);
    expect(help).toMatch(/--tpm N/);
  });
});
