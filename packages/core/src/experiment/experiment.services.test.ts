// Services started by experiments: by name from the workspace's `services:`, from the
// YAML configuration's `services: [...]`, or as objects; recorded in the run's services.json.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { ProcessProbe } from '../connector/processLiveness.ts';
import { ProcessWebService } from '../service/processWebService.ts';
import type { ServiceLike } from '../types.ts';
import { defineExperiment, runExperiment } from './defineExperiment.ts';
import { experiment, RUN_SERVICES_FILE } from './experiment.ts';

let dir: string;
const leftRunning: ServiceLike[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-xp-services-'));
  await writeFile(
    join(dir, 'baton.config.yaml'),
    [
      'workspaces:',
      '  - id: main',
      '    path: ws',
      '    services:',
      '      files: { use: process, command: [python3, -m, http.server, "{port}", --bind, "{host}"], cwd: site, description: the site }',
      '      kept: { use: process, command: [python3, -m, http.server, "{port}", --bind, "{host}"], keep: true }',
    ].join('\n'),
  );
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'site')));
  await writeFile(join(dir, 'site', 'index.html'), 'the site\n');
});
afterEach(async () => {
  await Promise.allSettled(leftRunning.splice(0).map((service) => service.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function servicesFile(runPath: string): Promise<unknown> {
  return JSON.parse(await readFile(join(runPath, RUN_SERVICES_FILE), 'utf8'));
}

describe('experiment services', () => {
  it('starts a service declared in the settings by name, records it in services.json, and stops it when it closes', async () => {
    const xp = await experiment({ name: 'site', cwd: dir });
    const attached: string[] = [];
    xp.events.on('service', (service) => attached.push(service.id));
    const files = await xp.useService('files');
    expect(attached).toEqual(['files']);
    expect(xp.services).toEqual([files]);
    expect(files).toBeInstanceOf(ProcessWebService);
    expect(files.state).toBe('running');
    expect(await (await fetch(files.url!)).text()).toBe('the site\n');
    // The same name again: the same service.
    expect(await xp.useService('files')).toBe(files);

    const pid = (files as ProcessWebService).pid!;
    const logFile = join(xp.path, 'services', 'files.log');
    await expect.poll(() => servicesFile(xp.path)).toEqual([
      { id: 'files', description: 'the site', state: 'running', url: files.url, keep: false, pid, logFile },
    ]);
    await xp.close();
    expect(files.state).toBe('stopped');
    expect(await new ProcessProbe().isProcessGroupAlive(pid)).toBe(false);
    expect(await servicesFile(xp.path)).toEqual([{ id: 'files', description: 'the site', state: 'stopped', keep: false, logFile }]);
    expect(await readFile(logFile, 'utf8')).toContain('GET / HTTP/1.1');
  });

  it('says which services the workspace declares when a name is unknown', async () => {
    await using xp = await experiment({ name: 'typo', cwd: dir });
    const error = (await xp.useService('file').catch((caught: unknown) => caught)) as UserInputError;
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toBe('No service named "file" in workspace "main" (did you mean "files"?); declared: files, kept');
    expect(xp.services).toEqual([]);
  });

  it('attaches and starts a service object, telling it the run folder', async () => {
    await using xp = await experiment({ name: 'object', cwd: dir });
    const http = new ProcessWebService({ id: 'http', command: ['python3', '-m', 'http.server', '{port}', '--bind', '{host}'] });
    expect(await xp.useService(http)).toBe(http);
    expect(http.state).toBe('running');
    expect(http.logFile).toBe(join(xp.path, 'services', 'http.log'));
    await xp.useService(http);
    expect(xp.services).toEqual([http]);
  });

  it('leaves a kept service running after the experiment', async () => {
    const xp = await experiment({ name: 'kept', cwd: dir });
    const kept = await xp.useService('kept');
    leftRunning.push(kept);
    await xp.close();
    expect(kept.state).toBe('running');
    expect((await fetch(kept.url!)).status).toBe(200);
    expect(await servicesFile(xp.path)).toMatchObject([{ id: 'kept', state: 'running', keep: true, url: kept.url }]);
  });

  it('starts the services named in the configuration before the run function', async () => {
    const seen: Array<[string, string, string | undefined]> = [];
    const definition = defineExperiment({
      run: ({ xp }) => {
        for (const service of xp.services) seen.push([service.id, service.state, service.url]);
      },
    });
    await runExperiment({ definition, configuration: { id: 'configured', services: ['files'] }, experiment: { cwd: dir } });
    expect(seen).toEqual([['files', 'running', expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/)]]);

    await expect(runExperiment({ definition, configuration: { id: 'configured', services: ['nope'] }, experiment: { cwd: dir } })).rejects.toThrow(
      'No service named "nope" in workspace "main"',
    );
  });
});
