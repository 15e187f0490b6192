import { describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { hostFits, hostShortfall, parseDuration, parseRequirements, parseSize } from './requirements.ts';

const G = 1024 ** 3;

describe('requirements', () => {
  it('parses the documented example', () => {
    expect(parseRequirements('cuda(mem=24G)*2 & cpu(cores=8, mem=64G) & duration=4h')).toEqual([
      { gpus: { count: 2, memory: 24 * G }, cores: 8, memory: 64 * G, duration: 4 * 3600 },
    ]);
  });

  it('parses alternatives and empty requirements', () => {
    expect(parseRequirements('cuda*1 | cpu(cores=4)')).toEqual([{ gpus: { count: 1 } }, { cores: 4 }]);
    expect(parseRequirements(undefined)).toEqual([{}]);
  });

  it('reads sizes and durations in the usual notations', () => {
    expect(parseSize('512M', 'x')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5GiB', 'x')).toBe(1.5 * G);
    expect(parseDuration('1d12h', 'x')).toBe(36 * 3600);
    expect(parseDuration('04:00:00', 'x')).toBe(4 * 3600);
    expect(parseDuration('2-00:30:00', 'x')).toBe(2 * 86400 + 1800);
    expect(parseDuration('1-04:00', 'x')).toBe(86400 + 4 * 3600);
    expect(parseDuration('1-12', 'x')).toBe(36 * 3600);
    expect(parseDuration('30:15', 'x')).toBe(30 * 60 + 15);
    expect(parseDuration('90', 'x')).toBe(90);
  });

  it('refuses a memory size without a unit (bytes? megabytes?)', () => {
    expect(() => parseRequirements('cpu(mem=400)')).toThrow(/"400" is not a size \(no unit\)/);
    expect(() => parseRequirements('cuda(mem=32)')).toThrow(UserInputError);
    expect(() => parseSize('32', 'x')).toThrow(expect.objectContaining({ hint: expect.stringMatching(/give a unit: 32G, 32M or 32B/) }));
    expect(parseSize('400B', 'x')).toBe(400);
    expect(parseSize('24GB', 'x')).toBe(24 * G);
    expect(parseRequirements('cuda(mem=32G)')).toEqual([{ gpus: { count: 1, memory: 32 * G } }]);
  });

  it('reads durations with spelled-out units', () => {
    expect(parseDuration('4 days', 'x')).toBe(4 * 86400);
    expect(parseDuration('1 day', 'x')).toBe(86400);
    expect(parseDuration('2 hours', 'x')).toBe(2 * 3600);
    expect(parseDuration('90min', 'x')).toBe(90 * 60);
    expect(parseDuration('90 mins', 'x')).toBe(90 * 60);
    expect(parseDuration('30 seconds', 'x')).toBe(30);
    expect(parseDuration('1 hour 30 minutes', 'x')).toBe(5400);
    expect(parseDuration('1d, 2h', 'x')).toBe(86400 + 7200);
    expect(parseDuration('2 hrs', 'x')).toBe(7200);
    expect(parseDuration('1w', 'x')).toBe(7 * 86400);
    expect(parseRequirements('duration=4 days & cpu(cores=2)')).toEqual([{ duration: 4 * 86400, cores: 2 }]);
    expect(() => parseDuration('10ms', 'x')).toThrow(/not a duration/);
    expect(() => parseDuration('2 fortnights', 'x')).toThrow(/not a duration/);
  });

  it('says what a host lacks', () => {
    const host = { cores: 8, gpus: 2, gpuMemory: 16 * G };
    expect(hostShortfall(host, { gpus: { count: 1, memory: 24 * G } })).toBe('GPUs with 16G of memory, 24G per GPU asked');
    expect(hostShortfall(host, { gpus: { count: 4 } })).toBe('2 GPUs, 4 asked');
    expect(hostShortfall(host, { gpus: { count: 2, memory: 16 * G } })).toBeUndefined();
  });

  it('rejects what it does not understand, saying how to write it', () => {
    expect(() => parseRequirements('tpu*2')).toThrow(/unknown term "tpu\*2"/);
    expect(() => parseRequirements('cpu(cores=0)')).toThrow(/positive integer/);
    expect(() => parseRequirements('cpu(threads=2)')).toThrow(/cpu\(\) has no "threads"/);
    expect(() => parseRequirements('duration=soon')).toThrow(/not a duration/);
  });

  it('matches requirements against what a host offers', () => {
    const host = { cores: 8, memory: 32 * G, gpus: 2, gpuMemory: 24 * G, maxDuration: 3600 };
    expect(hostFits(host, { cores: 8, gpus: { count: 2, memory: 24 * G } })).toBe(true);
    expect(hostFits(host, { cores: 9 })).toBe(false);
    expect(hostFits(host, { gpus: { count: 3 } })).toBe(false);
    expect(hostFits(host, { gpus: { count: 1, memory: 40 * G } })).toBe(false);
    expect(hostFits(host, { duration: 7200 })).toBe(false);
    expect(hostFits({ cores: 2 }, { gpus: { count: 1 } })).toBe(false);
    expect(hostFits({}, { cores: 64 })).toBe(true);
  });
});
