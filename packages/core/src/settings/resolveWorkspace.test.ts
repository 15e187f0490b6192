import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { resolveWorkspace } from './resolveWorkspace.ts';
import { validateSettings, type Settings } from './validateSettings.ts';

let root: string;
let settings: Settings;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-workspace-'));
  settings = validateSettings({
    raw: {
      env: { A: '1' },
      workspaces: [
        { id: 'main', path: 'main' },
        { id: 'vision', path: 'vision', triggers: ['mnist-*', 'cifar-??'] },
        { id: 'nlp', path: 'nlp', triggers: ['/^bert|gpt/i'], launchers: { gpu: { use: 'slurm' } }, tokens: { gpu: 2 } },
      ],
    },
    filepath: join(root, 'baton.config.yaml'),
    baseDir: root,
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveWorkspace', () => {
  it('uses --workdir first: an ad-hoc workspace with the default launcher, created if missing', async () => {
    const workspace = await resolveWorkspace({ settings, workdir: 'adhoc/runs', workspaceId: 'nlp', cwd: root });
    expect(workspace).toMatchObject({ id: 'runs', path: join(root, 'adhoc', 'runs'), launcher: 'local', launchers: {}, env: { A: '1' } });
    expect((await stat(join(root, 'adhoc', 'runs'))).isDirectory()).toBe(true);
  });

  it('keeps the launchers of a declared workspace given by --workdir', async () => {
    const workspace = await resolveWorkspace({ settings, workdir: join(root, 'nlp') });
    expect(workspace.id).toBe('nlp');
  });

  it('uses --workspace next, whatever the triggers say', async () => {
    const workspace = await resolveWorkspace({ settings, workspaceId: 'nlp', experimentId: 'mnist-small' });
    expect(workspace).toMatchObject({ id: 'nlp', path: join(root, 'nlp'), launcher: 'gpu', tokens: { gpu: 2 } });
    await access(join(root, 'nlp'));
  });

  it('suggests the closest id for an unknown --workspace', async () => {
    const error = await resolveWorkspace({ settings, workspaceId: 'visoin', settingsFile: join(root, 'baton.config.yaml') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toBe('No workspace "visoin" (did you mean "vision"?).');
    expect((error as UserInputError).where).toContain('main, vision, nlp');
  });

  it('picks the first workspace whose triggers match the experiment id (globs and /regex/)', async () => {
    expect((await resolveWorkspace({ settings, experimentId: 'mnist-large' })).id).toBe('vision');
    expect((await resolveWorkspace({ settings, experimentId: 'cifar-10' })).id).toBe('vision');
    expect((await resolveWorkspace({ settings, experimentId: 'cifar-100' })).id).toBe('main');
    expect((await resolveWorkspace({ settings, experimentId: 'GPT-2' })).id).toBe('nlp');
  });

  it('falls back to the first workspace', async () => {
    expect((await resolveWorkspace({ settings })).id).toBe('main');
  });

  it('fails with the path and a hint when the folder cannot be created', async () => {
    // Tests may run as root, for whom every folder is writable: a path under a regular file is not.
    const error = await resolveWorkspace({ settings, workdir: '/etc/passwd/x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).where).toBe('/etc/passwd/x');
    expect((error as UserInputError).hint).toContain('readable and writable');
  });

  it('fails when the path is a file', async () => {
    const error = await resolveWorkspace({ settings, workdir: '/etc/passwd' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).where).toBe('/etc/passwd');
  });
});
