// The plugin as a user installs it: its built files (what `files` publishes) in a
// project's node_modules, outside this repository, named by its package name in the
// settings, run by plain Node (no Vitest, no TypeScript sources): Baton resolves it
// through its `exports`, a job runs through `echo-local`, `echo-http` answers over HTTP.
// Reads dist/: build first (`npx tsc -b tsconfig.build.json`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EXAMPLE = fileURLToPath(new URL('../', import.meta.url));
const REPO = join(EXAMPLE, '..', '..');

/** What the project links to (installed once, shared): the peers and core. */
const LINKED: Record<string, string> = {
  '@baton/core': join(REPO, 'packages', 'core'),
  zod: join(REPO, 'packages', 'core', 'node_modules', 'zod'),
};

const SETTINGS = `plugins: ['@baton/example-plugin-echo']
workspaces:
  - id: main
    path: ws
    launchers:
      echo: { use: echo-local, tag: installed }
    services:
      hello: { use: echo-http, greeting: hi }
`;

const EXPERIMENT = `import { defineTask, experiment } from '@baton/core';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const say = defineTask({ id: 'say', params: z.object({ word: z.string() }), command: ({ word }) => ['echo', word] });
const xp = await experiment({ name: 'installed', cwd: process.cwd() });
try {
  const hello = await xp.useService('hello');
  const answer = await (await fetch(new URL('ping', hello.url))).json();
  const job = xp.submit(say, { word: 'hi' });
  const { counts } = await xp.wait();
  const read = (file) => readFile(job.directory + '/' + file, 'utf8');
  console.log(JSON.stringify({ answer, counts, tag: await read('launched-by'), stdout: await read('stdout'), process: JSON.parse(await read('process.json')) }));
} finally {
  await xp.close();
}
`;

let project: string;

beforeAll(async () => {
  for (const built of [join(EXAMPLE, 'dist', 'index.js'), join(REPO, 'packages', 'core', 'dist', 'index.js')]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: build first (\`npx tsc -b tsconfig.build.json\`)`);
  }
  project = await mkdtemp(join(tmpdir(), 'baton-echo-installed-'));
  const installed = join(project, 'node_modules', '@baton', 'example-plugin-echo');
  await mkdir(installed, { recursive: true });
  // What `files` publishes: package.json and dist/ (its build info left out).
  await cp(join(EXAMPLE, 'package.json'), join(installed, 'package.json'));
  await cp(join(EXAMPLE, 'dist'), join(installed, 'dist'), { recursive: true, filter: (source) => !source.endsWith('.tsbuildinfo') });
  for (const [name, target] of Object.entries(LINKED)) {
    await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
    await symlink(target, join(project, 'node_modules', name), 'dir');
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'echo-user', private: true, type: 'module' }));
  await writeFile(join(project, 'baton.config.yaml'), SETTINGS);
  await writeFile(join(project, 'experiment.mjs'), EXPERIMENT);
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the built plugin, installed in a project and named by its package name', () => {
  it('runs a job through echo-local and serves echo-http, under plain Node', async () => {
    const { code, stdout, stderr } = await node(['experiment.mjs']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toEqual({
      answer: { service: 'hello', greeting: 'hi', experiment: 'installed', path: '/services/hello/ping' },
      counts: expect.objectContaining({ done: 1, failed: 0 }),
      tag: 'launched-by: installed\n',
      stdout: 'hi\n',
      process: expect.objectContaining({ launcher: 'echo', kind: 'echo-local' }),
    });
  });
});

function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Without the test runner's NODE_OPTIONS: the user's plain `node`.
  const env = { ...process.env, NODE_OPTIONS: '' };
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: project, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
