import { BUILTIN_PLUGINS } from '@baton/core';
import { builtinKindMismatches } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.ts';

describe('the local plugin', () => {
  it('is the built-in "local", and core names the kinds it provides in settings errors', () => {
    expect(BUILTIN_PLUGINS['local']).toBe('@baton/launcher-local');
    expect(builtinKindMismatches(plugin, 'local')).toEqual([]);
  });
});
