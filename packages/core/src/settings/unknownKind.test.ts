import { describe, expect, it } from 'vitest';
import { unknownKindMessage } from './unknownKind.ts';

describe('unknownKindMessage', () => {
  it('names the built-in plugin to add for one of its kinds', () => {
    expect(unknownKindMessage({ role: 'launcher', kind: 'slurm', known: ['local', 'threads'] })).toBe(
      'launcher kind "slurm" comes with the built-in plugin @baton/launcher-slurm, which is not loaded: add slurm to `plugins:` (loaded kinds: local, threads)',
    );
    // The kind is not the plugin's short name: the SSH plugin's launcher.
    expect(unknownKindMessage({ role: 'launcher', kind: 'ssh-pool', known: ['local'] })).toContain('@baton/launcher-ssh, which is not loaded: add ssh to `plugins:`');
    expect(unknownKindMessage({ role: 'service', kind: 'tensorboard', known: ['process'] })).toContain('add tensorboard to `plugins:`');
  });

  it('suggests a loaded kind close to a typo', () => {
    expect(unknownKindMessage({ role: 'launcher', kind: 'locl', known: ['local', 'threads'] })).toBe(
      'unknown launcher kind "locl" (did you mean "local"?); loaded kinds: local, threads. Add the plugin that provides it to `plugins:` if it is not a typo',
    );
  });

  it('suggests a built-in kind close to a typo, with the plugin it comes with', () => {
    expect(unknownKindMessage({ role: 'launcher', kind: 'slurmm', known: ['local', 'threads'] })).toBe(
      'unknown launcher kind "slurmm" (did you mean "slurm"? It comes with the built-in plugin @baton/launcher-slurm: add slurm to `plugins:`); ' +
        'loaded kinds: local, threads. Add the plugin that provides it to `plugins:` if it is not a typo',
    );
  });

  it('gives a kind of another role no suggestion of this one', () => {
    // `ssh` is a connector kind: as a launcher it is unknown, and no launcher kind is close.
    expect(unknownKindMessage({ role: 'launcher', kind: 'ssh', known: ['local'] })).toBe(
      'unknown launcher kind "ssh"; loaded kinds: local. Add the plugin that provides it to `plugins:` if it is not a typo',
    );
    expect(unknownKindMessage({ role: 'connector', kind: 'sftp', known: [] })).toBe(
      'unknown connector kind "sftp"; loaded kinds: none. Add the plugin that provides it to `plugins:` if it is not a typo',
    );
  });
});
