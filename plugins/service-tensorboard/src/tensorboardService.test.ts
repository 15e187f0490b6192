// The TensorBoard service without TensorBoard: how its command line is built, where the
// command comes from, the error when it is missing, its settings block; a stand-in
// `tensorboard` (__fixtures__/fake-tensorboard) checks what reaches the process.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError, ValidationError, validateServiceBlocks, type Plugin, type WorkspaceSettings } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import plugin, { TensorBoardService, createTensorBoardService, tensorboard, tensorboardArgv, tensorboardCommand } from './index.ts';

const FAKE = fileURLToPath(new URL('./__fixtures__/fake-tensorboard', import.meta.url));

let dir: string;
const started: TensorBoardService[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-tensorboard-unit-'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.allSettled(started.splice(0).map((service) => service.stop()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BatonError);
  return error as BatonError;
}

describe('the tensorboard command line', () => {
  it('takes the `command` option, else $BATON_TENSORBOARD, else `tensorboard` on the PATH', () => {
    expect(tensorboardCommand({ command: ['/venv/bin/tensorboard'], env: { BATON_TENSORBOARD: '/other' } })).toEqual({ argv: ['/venv/bin/tensorboard'], source: 'command' });
    expect(tensorboardCommand({ env: { BATON_TENSORBOARD: '/opt/tb/bin/tensorboard' } })).toEqual({ argv: ['/opt/tb/bin/tensorboard'], source: 'env' });
    expect(tensorboardCommand({ env: { BATON_TENSORBOARD: '' } })).toEqual({ argv: ['tensorboard'], source: 'path' });
    expect(tensorboardCommand({ command: [], env: {} })).toEqual({ argv: ['tensorboard'], source: 'path' });
  });

  it('serves the log folder on 127.0.0.1 under the path the monitor proxies, with the options given', () => {
    expect(tensorboardArgv({ command: ['python3', '-m', 'tensorboard.main'], logdir: '/runs', port: 6123, path: '/services/tb/', reloadInterval: 1, args: ['--load_fast=false'] })).toEqual([
      'python3',
      '-m',
      'tensorboard.main',
      '--logdir',
      '/runs',
      '--host',
      '127.0.0.1',
      '--port',
      '6123',
      '--path_prefix',
      '/services/tb',
      '--reload_interval',
      '1',
      '--load_fast=false',
    ]);
    expect(tensorboardArgv({ command: ['tensorboard'], logdir: '/runs', port: 1, path: '/services/tb/' })).toEqual([
      'tensorboard',
      '--logdir',
      '/runs',
      '--host',
      '127.0.0.1',
      '--port',
      '1',
      '--path_prefix',
      '/services/tb',
    ]);
  });

  it('starts the command with those arguments, and is ready once <prefix>/data/runs answers', async () => {
    const argsFile = join(dir, 'args');
    vi.stubEnv('FAKE_TENSORBOARD_ARGS', argsFile);
    const logdir = join(dir, 'logs', 'not-yet');
    const service = tensorboard({ id: 'tb', logdir, command: [FAKE], reloadInterval: 2, logFile: join(dir, 'tb.log') });
    started.push(service);
    expect(service.description).toBe(`TensorBoard on ${logdir}`);
    await service.start();
    const port = /^http:\/\/127\.0\.0\.1:(\d+)\/services\/tb\/$/.exec(service.url ?? '')?.[1];
    expect(port).toBeDefined();
    expect((await readFile(argsFile, 'utf8')).trim().split('\n')).toEqual(['--logdir', logdir, '--host', '127.0.0.1', '--port', port, '--path_prefix', '/services/tb', '--reload_interval', '2']);
    expect(await (await fetch(`${service.url}data/runs`)).text()).toBe('[]');
    // The folder is made, so that a typo does not show an empty TensorBoard for ever.
    await expect(readFile(join(logdir, '..', 'not-yet'))).rejects.toThrow(/EISDIR/);
    await service.stop();
  });
});

describe('a missing tensorboard', () => {
  it('is one clear error at start that says how to install it', async () => {
    vi.stubEnv('PATH', dir);
    vi.stubEnv('BATON_TENSORBOARD', '');
    const service = tensorboard({ id: 'tb', logdir: dir });
    const error = await failure(service.start());
    expect(error.message).toBe('TensorBoard is not installed: the command "tensorboard" is not on the PATH (service "tb")');
    expect(error.hint).toBe(
      'install it in a virtual environment: `python3 -m venv ~/tb && ~/tb/bin/pip install tensorboard` (TensorFlow is not needed), ' +
        'then set BATON_TENSORBOARD=~/tb/bin/tensorboard, or give the service `command: [~/tb/bin/tensorboard]` in the settings ' +
        '(tensorboard({ command: [...] }) in code), or put ~/tb/bin on the PATH',
    );
    expect(service.state).toBe('error');
  });

  it('names $BATON_TENSORBOARD or the `command` option when that is what points nowhere', async () => {
    vi.stubEnv('BATON_TENSORBOARD', '/nonexistent/venv/bin/tensorboard');
    expect((await failure(tensorboard({ logdir: dir }).start())).message).toBe(
      'TensorBoard is not installed: $BATON_TENSORBOARD is "/nonexistent/venv/bin/tensorboard", which does not exist or is not executable (service "tensorboard")',
    );
    expect((await failure(tensorboard({ logdir: dir, command: ['/nonexistent/tb'] }).start())).message).toBe(
      'TensorBoard is not installed: the command "/nonexistent/tb" given as `command` does not exist or is not executable (service "tensorboard")',
    );
  });

  it('needs a log folder when it is not started through an experiment', async () => {
    const error = await failure(tensorboard({ command: [FAKE] }).start());
    expect(error.message).toBe('TensorBoard (service "tensorboard") has no log folder');
    expect(error.hint).toContain('xp.useService(tensorboard())');
  });
});

describe('the tensorboard settings block', () => {
  const workspace = (services: Record<string, unknown>) =>
    ({ id: 'main', path: '/ws', env: {}, triggers: [], launcher: 'local', launchers: {}, tokens: {}, services, keyPath: 'workspaces[0]' }) as WorkspaceSettings;
  const plugins = [plugin as Plugin];

  it('is the plugin\'s `tensorboard` service kind', () => {
    expect(plugin).toMatchObject({ name: 'tensorboard', __batonPlugin: true });
    expect(Object.keys(plugin.services)).toEqual(['tensorboard']);
    const [validated] = validateServiceBlocks({ workspace: workspace({ tb: { use: 'tensorboard', logdir: 'runs', reloadInterval: 1 } }), plugins });
    expect(validated).toMatchObject({ name: 'tb', kind: 'tensorboard', settings: { logdir: 'runs', reloadInterval: 1, keep: false, startTimeout: 60 } });
  });

  it('reports unknown keys with a did-you-mean, and bad values, all at once', () => {
    const blocks = workspace({ tb: { use: 'tensorboard', logdri: 'runs', reloadInterval: 0 }, tb2: { use: 'tensorbord' } });
    const error = (() => {
      try {
        validateServiceBlocks({ workspace: blocks, plugins, settingsFile: '/p/baton.config.yaml' });
      } catch (caught) {
        return caught as ValidationError;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.issues).toEqual([
      { path: 'workspaces[0].services.tb.reloadInterval', message: 'Too small: expected number to be >0' },
      { path: 'workspaces[0].services.tb.logdri', message: 'unknown key "logdri" (did you mean "logdir"?)' },
      { path: 'workspaces[0].services.tb2.use', message: 'unknown service kind "tensorbord" (did you mean "tensorboard"?); loaded kinds: process, tensorboard. Add the plugin that provides it to `plugins:` if it is not a typo' },
    ]);
  });

  it('resolves paths from the settings folder: logdir, and a command given as a path', () => {
    const home = process.env.HOME || homedir();
    const made = createTensorBoardService(
      { logdir: 'runs', command: ['~/tb/bin/tensorboard', '--verbosity', '0'], keep: true, startTimeout: 5 },
      { name: 'tb', baseDir: '/project' },
    );
    expect(made).toMatchObject({ id: 'tb', logdir: '/project/runs', keep: true, description: 'TensorBoard on /project/runs' });
    expect(made.command).toEqual([join(home, 'tb/bin/tensorboard'), '--verbosity', '0']);
    const fromPath = createTensorBoardService({ command: ['tensorboard'], logdir: '~/runs', keep: false, startTimeout: 60 }, { name: 'x', baseDir: '/p' });
    expect(fromPath.command).toEqual(['tensorboard']);
    expect(fromPath.logdir).toBe(join(home, 'runs'));
    expect(createTensorBoardService({ command: ['./venv/bin/tensorboard'], keep: false, startTimeout: 60 }, { name: 'x', baseDir: '/p' }).command).toEqual(['/p/venv/bin/tensorboard']);
  });
});
