import { describe, expect, it } from 'vitest';
import { decodeParamValue, encodeParamValue } from './paramValues.ts';

const roundTrip = (value: unknown) => decodeParamValue(JSON.parse(JSON.stringify(encodeParamValue(value))));

describe('parameter values on their way to the job', () => {
  it('come back as they were: Date, Set, Map, bigint, -0, NaN, undefined in arrays', () => {
    const value = {
      when: new Date('2026-01-02T03:04:05.000Z'),
      tags: new Set(['b', 'a']),
      weights: new Map<unknown, unknown>([
        ['x', 1],
        [2, new Set([3n])],
      ]),
      seed: 2n ** 70n,
      zero: -0,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      list: [1, undefined, null],
      nested: { deep: [{ at: new Date(0) }] },
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.when).toBeInstanceOf(Date);
    expect([...back.tags]).toEqual(['b', 'a']); // insertion order kept
    expect(Object.is(back.zero, -0)).toBe(true);
    expect(back.list).toHaveLength(3);
  });

  it('keep plain objects that look like tags apart from the tagged values', () => {
    for (const value of [{ $set: [1] }, { $date: '2026-01-01' }, { $object: { a: 1 } }, { $undefined: true }, { $bigint: '1', other: 2 }]) {
      expect(roundTrip(value)).toEqual(value);
    }
  });

  it('read plain JSON written by earlier versions as itself', () => {
    expect(decodeParamValue({ lr: 0.1, list: [1, 'a', { b: null }] })).toEqual({ lr: 0.1, list: [1, 'a', { b: null }] });
  });

  it('refuse what cannot come back, naming the parameter', () => {
    expect(() => encodeParamValue({ a: { b: [new URL('https://x.org')] } })).toThrow('params.a.b[0]: a URL cannot be passed to a job');
    expect(() => encodeParamValue({ f: () => 1 })).toThrow('params.f: a function cannot be passed to a job');
    expect(() => encodeParamValue({ d: new Date(Number.NaN) })).toThrow('params.d: an invalid Date');
  });
});
