// `baton jobs list|log|clean|kill` on a workspace that lives on another host: every file
// is reached through the workspace's connector. The "host" here is a connector whose "/"
// is a folder of this machine, so the workspace's path on this machine holds nothing.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATON_BIN, runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

const DONE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const FAILED = 'b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RUNNING = 'c1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const GONE = 'c2b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** A host whose "/" is `root` on this machine; its processes are this machine's. */
const REBASED_CONNECTOR_PLUGIN = `
import { LocalConnector, definePlugin } from '@baton/core';
import { z } from 'zod';

const PATH_ARGUMENTS = { readFile: [0], readFileIfExists: [0], writeFile: [0], appendFile: [0], mkdir: [0], rename: [0, 1], exists: [0], remove: [0], rmdir: [0], readdir: [0], listDirectory: [0], symlink: [1], readlink: [0], lock: [0] };

class RebasedConnector extends LocalConnector {
  constructor(root, host) {
    super();
    this.kind = 'rebased';
    this.hostname = host;
    this.root = root;
  }
}
for (const [method, positions] of Object.entries(PATH_ARGUMENTS)) {
  RebasedConnector.prototype[method] = function (...args) {
    for (const position of positions) args[position] = this.root + args[position];
    return LocalConnector.prototype[method].apply(this, args);
  };
}

const settings = z.object({ root: z.string(), hostname: z.string() });
export default definePlugin({ name: 'rebased', connectors: { rebased: { settings, create: (options) => new RebasedConnector(options.root, options.hostname) } } });
`;

let dir: string;
/** The workspace's path on its host. */
let workspace: string;
/** Where the host's "/" is on this machine. */
let hostRoot: string;
const groups: number[] = [];

beforeEach(async () => {
  dir = await createUserProject('baton-cli-jobs-remote-');
  workspace = join(dir, 'remote-workspace');
  hostRoot = join(dir, 'host');
  await writeFile(join(dir, 'rebased.mjs'), REBASED_CONNECTOR_PLUGIN);
  await writeFile(
    join(dir, 'baton.config.yaml'),
    [
      'plugins: [./rebased.mjs]',
      'connectors:',
      `  box: { use: rebased, root: ${hostRoot}, hostname: box }`,
      'workspaces:',
      '  - id: remote',
      `    path: ${workspace}`,
      '    connector: box',
      '',
    ].join('\n'),
  );
});

afterEach(async () => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** This machine's path of a path on the host. */
const onHost = (path: string) => hostRoot + path;

async function makeJob(options: { taskId: string; hash: string; stdout?: string; marker?: 'done' | 'failed'; pid?: number }): Promise<string> {
  const directory = join(workspace, 'jobs', options.taskId, options.hash);
  await mkdir(onHost(directory), { recursive: true });
  await writeFile(onHost(join(directory, 'params.json')), JSON.stringify({ taskId: options.taskId, params: {}, dependencies: [] }));
  await writeFile(onHost(join(directory, 'stdout')), options.stdout ?? '');
  if (options.marker === 'done') await writeFile(onHost(join(directory, 'done')), '{"code":0,"start":1796135000,"end":1796135001,"host":"box"}\n');
  if (options.marker === 'failed') await writeFile(onHost(join(directory, 'failed')), JSON.stringify({ code: 1, reason: 'failed', message: 'exit 1' }));
  if (options.pid !== undefined) {
    const handle = { launcher: 'local', kind: 'local', host: 'box', directory, pid: options.pid, submittedAt: new Date().toISOString() };
    await writeFile(onHost(join(directory, 'process.json')), JSON.stringify(handle));
  }
  return directory;
}

/** A detached process group whose command line names the job directory as the host sees it, like a local launcher's job there. */
async function startSleeper(directory: string): Promise<number> {
  const child = spawn('sh', ['-c', 'sleep 100; true', join(directory, 'job.sh')], { detached: true, stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  child.unref();
  groups.push(child.pid!);
  return child.pid!;
}

async function makeWorkspace(): Promise<Record<'done' | 'failed' | 'running' | 'gone', string>> {
  const done = await makeJob({ taskId: 'train', hash: DONE, stdout: 'epoch 1\nepoch 2\n', marker: 'done' });
  const failed = await makeJob({ taskId: 'train', hash: FAILED, marker: 'failed' });
  const runningDirectory = join(workspace, 'jobs', 'evaluate', RUNNING);
  const running = await makeJob({ taskId: 'evaluate', hash: RUNNING, pid: await startSleeper(runningDirectory) });
  // A job of the host whose process is gone: checked on the host, it is not running.
  const gone = await makeJob({ taskId: 'evaluate', hash: GONE, pid: 999_999 });
  await mkdir(onHost(join(workspace, 'experiments', 'mnist', 'r1')), { recursive: true });
  await writeFile(onHost(join(workspace, 'experiments', 'mnist', 'r1', 'jobs.jsonl')), `${JSON.stringify({ taskId: 'train', hash: DONE })}\n`);
  return { done, failed, running, gone };
}

describe('baton jobs on a workspace on another host', () => {
  it('lists its jobs through its connector, their processes checked on that host', async () => {
    const dirs = await makeWorkspace();
    const result = await runBaton(['jobs', 'list', '--json'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const jobs = JSON.parse(result.stdout) as { directory: string; state: string; experiments: string[] }[];
    expect(jobs.map((job) => [job.directory, job.state, job.experiments])).toEqual([
      [dirs.running, 'running', []],
      [dirs.gone, 'incomplete', []],
      [dirs.done, 'done', ['mnist']],
      [dirs.failed, 'failed', []],
    ]);
    // Nothing of it on this machine's side of the path.
    expect(existsSync(join(workspace, 'jobs'))).toBe(false);
  });

  it("prints and follows a job's output through its connector", async () => {
    const dirs = await makeWorkspace();
    const printed = await runBaton(['jobs', 'log', DONE.slice(0, 8), '--workspace', 'remote'], { cwd: dir });
    expect(printed.stderr).toBe('');
    expect(printed.stdout).toBe('epoch 1\nepoch 2\n');

    await writeFile(onHost(join(dirs.running, 'stdout')), 'start\n');
    const child = spawn(process.execPath, [BATON_BIN, 'jobs', 'log', `evaluate/${RUNNING.slice(0, 6)}`, '--follow'], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, BATON_WORKSPACE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await expect.poll(() => stdout, { timeout: 10_000 }).toBe('start\n');
    await appendFile(onHost(join(dirs.running, 'stdout')), 'end\n');
    await writeFile(onHost(join(dirs.running, 'done')), '');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe('start\nend\n');
  });

  it('cleans finished jobs and their index lines through its connector', async () => {
    const dirs = await makeWorkspace();
    const result = await runBaton(['jobs', 'clean', '--perform'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(dirs.done);
    expect(result.stdout).toContain(dirs.failed);
    expect(existsSync(onHost(dirs.done))).toBe(false);
    expect(existsSync(onHost(dirs.failed))).toBe(false);
    expect(await readdir(onHost(join(workspace, 'jobs')))).toEqual(['evaluate']);
    expect(await readFile(onHost(join(workspace, 'experiments', 'mnist', 'r1', 'jobs.jsonl')), 'utf8')).toBe('');
  });

  it('kills a job on that host through its launcher, and marks it cancelled there', async () => {
    const dirs = await makeWorkspace();
    const pid = JSON.parse(await readFile(onHost(join(dirs.running, 'process.json')), 'utf8')).pid as number;
    const result = await runBaton(['jobs', 'kill', `evaluate/${RUNNING.slice(0, 6)}`], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/evaluate\/c1b2c3d4e5f6 .*: killed/);
    await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
    expect(JSON.parse(await readFile(onHost(join(dirs.running, 'failed')), 'utf8'))).toMatchObject({ reason: 'cancelled' });
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}
