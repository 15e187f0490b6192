import { describe, expect, it } from 'vitest';
import { limitIo } from './limitIo.ts';

describe('limitIo', () => {
  it('runs at most N calls at once, in the order they came, each slot handed to the next', async () => {
    const io = limitIo(3);
    let active = 0;
    let most = 0;
    const order: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        io(async () => {
          active++;
          most = Math.max(most, active);
          order.push(i);
          await new Promise((resolve) => setImmediate(resolve));
          active--;
          return i * 2;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(results[2999]).toBe(5998);
  });

  it('passes a failure on and frees its slot', async () => {
    const io = limitIo(1);
    const failed = io(() => Promise.reject(new Error('boom')));
    const next = io(() => Promise.resolve('next'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
