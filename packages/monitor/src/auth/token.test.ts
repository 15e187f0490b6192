// The token is compared in constant time: through crypto.timingSafeEqual, on two digests of
// equal length, for every credential of every request.
import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { newToken, tokenMatches } = await import('./token.ts');
const { createMonitorApp } = await import('../monitorApp.ts');

const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

describe('tokenMatches', () => {
  it('compares SHA-256 digests with timingSafeEqual, whatever the length of what is offered', () => {
    for (const offered of ['', 'x', 'the-token', 'the-token-but-much-longer-than-the-real-one']) {
      timingSafeEqual.mockClear();
      expect(tokenMatches(offered, 'the-token')).toBe(offered === 'the-token');
      expect(timingSafeEqual).toHaveBeenCalledTimes(1);
      const [a, b] = timingSafeEqual.mock.calls[0]! as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([32, 32]);
    }
  });

  it('makes tokens of 32 random bytes, base64url', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => newToken()));
    expect(tokens.size).toBe(50);
    for (const token of tokens) expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });
});

describe('the monitor', () => {
  it('checks the token of every request through that comparison', async () => {
    const { app, close } = createMonitorApp({ workspace: '/nonexistent-baton-workspace', token: 'the-token' });
    try {
      for (const headers of [{ authorization: 'Bearer wrong' }, { cookie: 'baton-monitor-80=wrong' }, { authorization: 'Bearer the-token' }] as Record<string, string>[]) {
        timingSafeEqual.mockClear();
        await app.request('/api/overview', { headers });
        expect(timingSafeEqual).toHaveBeenCalledTimes(1);
      }
      timingSafeEqual.mockClear();
      await app.request('/?token=wrong');
      expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    } finally {
      await close();
    }
  });
});
