// The echo-local launcher as a user meets it: a real experiment whose workspace
// declares it in a settings file that names the plugin. (The launcher contract
// itself is checked by the conformance kit: echoLauncher.conformance.test.ts.)
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError, defineTask, experiment, openWorkspace, settingsJsonSchema } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TAG_FILE } from './echoLauncher.ts';
import { echoLauncherSettings } from './echoSettings.ts';

const PLUGIN_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));

const shout = defineTask({
  id: 'shout',
  params: z.object({ word: z.string() }),
  command: ({ word }) => ['sh', '-c', 'echo "$1" > word.txt', 'shout', word],
});

/** Asks for more cores than the launcher of the test below offers. */
const wide = defineTask({
  id: 'wide',
  params: z.object({ word: z.string() }),
  requirements: 'cpu(cores=8)',
  command: ({ word }) => ['echo', word],
});

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-plugin-echo-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** baton.config.yaml in the temporary project folder, with one workspace whose only launcher is `echo`. */
async function writeSettings(launcherBlock: string): Promise<string> {
  const file = join(dir, 'baton.config.yaml');
  await writeFile(
    file,
    [`plugins: [${JSON.stringify(PLUGIN_ENTRY)}]`, 'workspaces:', '  - id: main', '    path: ws', '    launchers:', `      echo: ${launcherBlock}`, ''].join('\n'),
  );
  return file;
}

describe('echo-local launcher', () => {
  it('runs a job of a real experiment, tagging it and recording itself in process.json', async () => {
    await writeSettings('{ use: echo-local, tag: hi }');
    const job = await (async () => {
      await using xp = await experiment({ name: 'echo-test', cwd: dir });
      expect(xp.workspace.launchers.get('echo')).toMatchObject({ kind: 'echo-local', maxConcurrent: 2 });
      const submitted = xp.submit(shout, { word: 'hello' });
      const summary = await xp.wait();
      expect(summary.counts.done).toBe(1);
      return submitted;
    })();

    expect(job.directory.startsWith(join(dir, 'ws', 'jobs', 'shout'))).toBe(true);
    expect(await readFile(join(job.directory, 'word.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(job.directory, TAG_FILE), 'utf8')).toBe('launched-by: hi\n');
    const processFile = JSON.parse(await readFile(join(job.directory, 'process.json'), 'utf8')) as Record<string, unknown>;
    expect(processFile).toMatchObject({ launcher: 'echo', kind: 'echo-local', directory: job.directory });
    expect(processFile.pid).toEqual(expect.any(Number));
  });

  it('offers the cores of its settings to the launcher finder: a job asking for more is refused, with what each launcher offers', async () => {
    await writeSettings('{ use: echo-local, cores: 2 }');
    await using xp = await experiment({ name: 'echo-cores', cwd: dir });
    xp.submit(shout, { word: 'fits' });
    xp.submit(wide, { word: 'too wide' });
    const summary = await xp.wait();
    expect(summary.counts).toMatchObject({ done: 1, failed: 1 });
    expect(summary.failed).toEqual([
      expect.objectContaining({ taskId: 'wide', failure: expect.objectContaining({ reason: 'rejected', message: expect.stringContaining('echo offers 2 cores, 8 asked') }) }),
    ]);
  });

  it('reports a typo in its settings block with the key path and a did-you-mean', async () => {
    const settingsFile = await writeSettings('{ use: echo-local, tga: hi }');
    const error = await openWorkspace({ cwd: dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).where).toBe(settingsFile);
    expect((error as ValidationError).issues).toEqual([
      { path: 'workspaces[0].launchers.echo.tga', message: 'unknown key "tga" (did you mean "tag"?)' },
    ]);
  });
});

describe('echo-local settings schema', () => {
  it('describes its block in the JSON schema of the settings file, for editor completion', () => {
    const schema = settingsJsonSchema({ launcherKinds: { 'echo-local': echoLauncherSettings } }) as { $defs: { LauncherBlock: { anyOf: unknown[] } } };
    expect(schema.$defs.LauncherBlock.anyOf).toContainEqual({
      type: 'object',
      properties: {
        use: { const: 'echo-local', description: 'Launcher kind "echo-local"' },
        // Every launcher block may name the host it runs jobs on.
        connector: expect.objectContaining({ type: 'string' }),
        tag: { type: 'string', minLength: 1, default: 'echo', description: 'Written into each job directory as `launched-by: <tag>`' },
        maxConcurrent: { type: 'integer', exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 2, description: 'Most jobs running at once for one experiment process' },
        cores: expect.objectContaining({ type: 'integer', description: expect.stringContaining('matched against task requirements') }),
      },
      required: ['use'],
      additionalProperties: false,
    });
  });
});
