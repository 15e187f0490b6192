import { BUILTIN_PLUGINS } from '@baton/core';
import { builtinKindMismatches } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.ts';

describe('the tensorboard plugin', () => {
  it('is the built-in "tensorboard", and core names the kinds it provides in settings errors', () => {
    expect(BUILTIN_PLUGINS['tensorboard']).toBe('@baton/service-tensorboard');
    expect(builtinKindMismatches(plugin, 'tensorboard')).toEqual([]);
  });
});
