import { BUILTIN_PLUGINS } from '@baton/core';
import { builtinKindMismatches } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.ts';

describe('the slurm plugin', () => {
  it('is the built-in "slurm", and core names the kinds it provides in settings errors', () => {
    expect(BUILTIN_PLUGINS['slurm']).toBe('@baton/launcher-slurm');
    expect(builtinKindMismatches(plugin, 'slurm')).toEqual([]);
  });
});
