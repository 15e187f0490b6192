import { BUILTIN_PLUGINS } from '@baton/core';
import { builtinKindMismatches } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.ts';

describe('the oar plugin', () => {
  it('is the built-in "oar", and core names the kinds it provides in settings errors', () => {
    expect(BUILTIN_PLUGINS['oar']).toBe('@baton/launcher-oar');
    expect(builtinKindMismatches(plugin, 'oar')).toEqual([]);
  });
});
