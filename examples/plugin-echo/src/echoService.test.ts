// The echo-http service as a user meets it: declared in a workspace's `services:`
// block of a settings file that names the plugin, started by a real experiment
// (by name, or as an object in code), reached over HTTP, stopped with the experiment.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_SERVICES_FILE, ValidationError, experiment, openWorkspace } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EchoService } from './echoService.ts';

const PLUGIN_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-echo-service-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** baton.config.yaml in the temporary project folder: one workspace that declares the service `hello`. */
async function writeSettings(serviceBlock: string): Promise<string> {
  const file = join(dir, 'baton.config.yaml');
  await writeFile(file, [`plugins: [${JSON.stringify(PLUGIN_ENTRY)}]`, 'workspaces:', '  - id: main', '    path: ws', '    services:', `      hello: ${serviceBlock}`, ''].join('\n'));
  return file;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: response.headers.get('content-type') === 'application/json' ? await response.json() : await response.text() };
}

describe('echo-http service', () => {
  it('starts by its name in the settings, answers over HTTP under /services/<name>/, and stops with the experiment', async () => {
    await writeSettings('{ use: echo-http, greeting: hi }');
    const { url, runPath } = await (async () => {
      await using xp = await experiment({ name: 'greet', cwd: dir });
      const hello = await xp.useService('hello');
      expect(hello).toBeInstanceOf(EchoService);
      expect(hello.state).toBe('running');
      expect(hello.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\/hello\/$/);
      expect(await getJson(`${hello.url}status`)).toEqual({
        status: 200,
        body: { service: 'hello', greeting: 'hi', experiment: 'greet', path: '/services/hello/status' },
      });
      expect(await getJson(new URL('/elsewhere', hello.url).href)).toEqual({ status: 404, body: 'not found: /elsewhere\n' });
      // Asked again by name, the experiment gives the same service.
      expect(await xp.useService('hello')).toBe(hello);
      return { url: hello.url!, runPath: xp.path };
    })();

    await expect(fetch(url)).rejects.toThrow();
    // What another process (the monitor) reads about the run's services.
    const recorded = JSON.parse(await readFile(join(runPath, RUN_SERVICES_FILE), 'utf8')) as unknown;
    expect(recorded).toEqual([{ id: 'hello', description: 'hello', state: 'stopped', keep: false }]);
  });

  it('starts as an object in code, with its defaults', async () => {
    await writeSettings('{ use: echo-http }');
    await using xp = await experiment({ name: 'in-code', cwd: dir });
    const fromCode = await xp.useService(new EchoService({ id: 'greeter', greeting: 'hey' }));
    const fromSettings = await xp.useService('hello');
    expect((await getJson(fromCode.url!)).body).toMatchObject({ service: 'greeter', greeting: 'hey', experiment: 'in-code' });
    expect((await getJson(fromSettings.url!)).body).toMatchObject({ service: 'hello', greeting: 'hello' });
    expect(xp.services.map((service) => [service.id, service.state])).toEqual([
      ['greeter', 'running'],
      ['hello', 'running'],
    ]);
  });

  it('reports a typo in its settings block with the key path and a did-you-mean, when the workspace opens', async () => {
    const settingsFile = await writeSettings('{ use: echo-http, greting: hi }');
    const error = await openWorkspace({ cwd: dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).where).toBe(settingsFile);
    expect((error as ValidationError).issues).toEqual([
      { path: 'workspaces[0].services.hello.greting', message: 'unknown key "greting" (did you mean "greeting"?)' },
    ]);
  });
});
