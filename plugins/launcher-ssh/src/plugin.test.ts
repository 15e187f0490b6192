import { BUILTIN_PLUGINS } from '@baton/core';
import { builtinKindMismatches } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.ts';

describe('the ssh plugin', () => {
  it('is the built-in "ssh", and core names the kinds it provides in settings errors', () => {
    expect(BUILTIN_PLUGINS['ssh']).toBe('@baton/launcher-ssh');
    expect(builtinKindMismatches(plugin, 'ssh')).toEqual([]);
  });
});
