import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@baton/core';
import type { LaunchHandle, LaunchRequest } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// Tests only: the plugin itself is handed its connector.
import { LocalConnector } from '../../../packages/core/src/connector/localConnector.ts';
import plugin, { localLauncherSettings } from './index.ts';
import { LocalLauncher } from './localLauncher.ts';

const connector = new LocalConnector();
const logger = createLogger('baton:test:launcher-local');
let workspace: string;
const started: LaunchHandle[] = [];

beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'baton-launcher-local-'));
});

afterEach(async () => {
  for (const handle of started.splice(0)) await connector.killProcessGroup(handle.pid!, 'SIGKILL');
  await rm(workspace, { recursive: true, force: true });
});

function newLauncher(options: { cancelGraceMs?: number } = {}): LocalLauncher {
  return new LocalLauncher({ name: 'laptop', connector, logger, pollIntervalMs: 60_000, ...options });
}

/** A job directory holding a hand-written job.sh, as the core would generate it. */
async function jobRequest(name: string, script: string): Promise<LaunchRequest> {
  const directory = join(workspace, 'jobs', 'task', name);
  await mkdir(directory, { recursive: true });
  const scriptPath = join(directory, 'job.sh');
  await writeFile(scriptPath, script);
  return { taskId: 'task', hash: name, directory, scriptPath, name: `task-${name}`, requirements: {} };
}

async function submitOne(launcher: LocalLauncher, request: LaunchRequest): Promise<LaunchHandle> {
  const [outcome] = await launcher.submit([request]);
  if (!outcome || !('handle' in outcome)) throw new Error(`submit failed: ${JSON.stringify(outcome)}`);
  started.push(outcome.handle);
  return outcome.handle;
}

describe('LocalLauncher', () => {
  it('runs a job whose output lands in its directory', async () => {
    const launcher = newLauncher();
    const request = await jobRequest('a', 'echo hello; echo oops >&2; sleep 0.3; touch done\n');
    const handle = await submitOne(launcher, request);
    expect(handle).toMatchObject({ launcher: 'laptop', kind: 'local', host: connector.hostname, directory: request.directory });
    expect(handle.pid).toBeGreaterThan(0);
    expect(await launcher.status([handle])).toEqual([{ state: 'running' }]);
    await waitFor(async () => (await launcher.status([handle]))[0]!.state === 'finished');
    expect(existsSync(join(request.directory, 'done'))).toBe(true);
    expect(await readFile(join(request.directory, 'stdout'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(request.directory, 'stderr'), 'utf8')).toBe('oops\n');
  });

  it('reports job ends through onChange without waiting for a poll', async () => {
    const launcher = newLauncher();
    const requests = await Promise.all(
      Array.from({ length: 8 }, (_, index) => jobRequest(`job${index}`, `sleep 0.${index}; touch done\n`)),
    );
    let notifications = 0;
    let resolveAllFinished: () => void;
    const allFinished = new Promise<void>((resolve) => (resolveAllFinished = resolve));
    let handles: LaunchHandle[] = [];
    const unsubscribe = launcher.onChange(async () => {
      notifications += 1;
      const states = await launcher.status(handles);
      if (handles.length === 8 && states.every((status) => status.state === 'finished')) resolveAllFinished();
    });
    const outcomes = await launcher.submit(requests);
    handles = outcomes.map((outcome) => ('handle' in outcome ? outcome.handle : expect.fail(JSON.stringify(outcome))));
    started.push(...handles);
    await Promise.race([
      allFinished,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no notification after the last job ended')), 10_000)),
    ]);
    expect(notifications).toBeGreaterThanOrEqual(2);
    for (const request of requests) expect(existsSync(join(request.directory, 'done'))).toBe(true);
    unsubscribe();
    const before = notifications;
    await submitOne(launcher, await jobRequest('after', 'true\n'));
    await waitFor(async () => (await launcher.status([started.at(-1)!]))[0]!.state === 'finished');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(notifications).toBe(before);
  });

  it('cancels a job and the processes it started', async () => {
    const launcher = newLauncher({ cancelGraceMs: 2000 });
    // Like job.sh: on SIGTERM, write the failed marker and exit.
    const script = [
      `trap 'echo "{\\"reason\\":\\"cancelled\\"}" > failed; exit 143' TERM`,
      'sleep 100 &',
      'echo $! > child.pid',
      'wait',
      '',
    ].join('\n');
    const request = await jobRequest('cancel', script);
    const handle = await submitOne(launcher, request);
    // The pid file may exist before it is written, and the child may not have exec'd sleep yet.
    const readChildPid = async () => Number((await readFile(join(request.directory, 'child.pid'), 'utf8').catch(() => '')).trim());
    await waitFor(async () => readChildPid().then((pid) => pid > 0 && connector.isProcessAlive(pid, 'sleep')));
    const childPid = await readChildPid();
    await launcher.cancel([handle]);
    expect(await connector.isProcessAlive(handle.pid!)).toBe(false);
    expect(await connector.isProcessAlive(childPid)).toBe(false);
    expect(JSON.parse(await readFile(join(request.directory, 'failed'), 'utf8'))).toEqual({ reason: 'cancelled' });
    expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
  });

  it('cancels a job whose process has not exec\'d job.sh yet, as its status counts it running', async () => {
    // Right after launch the job's process may still be the spawner's fork: its command line
    // does not name job.sh yet. A kill at that moment (from a fresh launcher, reading
    // process.json) must reach it; stand-in: a fresh process group whose command is not job.sh.
    const request = await jobRequest('early', 'sleep 100\n');
    const fork = spawn('sleep', ['100'], { detached: true, stdio: 'ignore' });
    fork.unref();
    const handle: LaunchHandle = { launcher: 'laptop', kind: 'local', host: connector.hostname, directory: request.directory, pid: fork.pid!, submittedAt: new Date().toISOString() };
    started.push(handle);
    const launcher = newLauncher({ cancelGraceMs: 500 });
    expect(await launcher.status([handle])).toEqual([{ state: 'running' }]);
    await launcher.cancel([handle]);
    expect(await connector.isProcessGroupAlive(handle.pid!)).toBe(false);
  });

  it('keeps a job running while its command outlives a killed job.sh, and cancels the rest of its group', async () => {
    const launcher = newLauncher({ cancelGraceMs: 300 });
    const request = await jobRequest('orphaned', 'sleep 30 &\necho $! > child.pid\nwait\ntouch done\n');
    const handle = await submitOne(launcher, request);
    const readChildPid = async () => Number((await readFile(join(request.directory, 'child.pid'), 'utf8').catch(() => '')).trim());
    await waitFor(async () => readChildPid().then((pid) => pid > 0 && connector.isProcessAlive(pid, 'sleep')));
    const childPid = await readChildPid();
    // Only the shell dies: no marker will come, but the job's command still runs.
    process.kill(handle.pid!, 'SIGKILL');
    await waitFor(async () => !(await connector.isProcessAlive(handle.pid!)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await launcher.status([handle])).toEqual([{ state: 'running' }]);
    // A launcher that did not start it (a restarted experiment) agrees.
    expect(await newLauncher().status([handle])).toEqual([{ state: 'running' }]);
    await launcher.cancel([handle]);
    expect(await connector.isProcessAlive(childPid)).toBe(false);
    expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
  });

  it('reports a job finished once it wrote its marker, even if it left processes behind', async () => {
    const launcher = newLauncher();
    const request = await jobRequest('leftover', 'sleep 30 &\necho $! > child.pid\ntouch done\n');
    const handle = await submitOne(launcher, request);
    await waitFor(async () => (await launcher.status([handle]))[0]!.state === 'finished');
    const childPid = Number((await readFile(join(request.directory, 'child.pid'), 'utf8')).trim());
    expect(await connector.isProcessAlive(childPid)).toBe(true);
    expect(await newLauncher().status([handle])).toEqual([{ state: 'finished' }]);
  });

  it('finds a job that ended without an exit notice (a lost notice never strands a job as running)', async () => {
    // A connector whose exit notices never come.
    const deaf = Object.create(connector) as LocalConnector;
    deaf.spawnDetached = async (argv, options) => ({ ...(await connector.spawnDetached(argv, options)), exited: new Promise<boolean>(() => undefined) });
    const launcher = new LocalLauncher({ name: 'laptop', connector: deaf, logger, pollIntervalMs: 60_000 });
    const request = await jobRequest('unnoticed', 'touch done\n');
    const handle = await submitOne(launcher, request);
    await waitFor(async () => existsSync(join(request.directory, 'done')) && !(await connector.isProcessAlive(handle.pid!)));
    // Until it is looked at again, the launcher believes what it knew.
    expect(await launcher.status([handle])).toEqual([{ state: 'running' }]);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 6000 });
    try {
      expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('kills a job that ignores SIGTERM once the grace time is over', async () => {
    const launcher = newLauncher({ cancelGraceMs: 300 });
    const request = await jobRequest('stubborn', "trap '' TERM\ntouch ready\nsleep 100 &\nwhile :; do wait; done\n");
    const handle = await submitOne(launcher, request);
    await waitFor(async () => existsSync(join(request.directory, 'ready')));
    const begun = Date.now();
    await launcher.cancel([handle]);
    expect(Date.now() - begun).toBeGreaterThanOrEqual(250);
    expect(await connector.isProcessAlive(handle.pid!)).toBe(false);
  });

  it('re-attaches to a job from its handle after the experiment restarts', async () => {
    const request = await jobRequest('survivor', 'sleep 0.8; touch done\n');
    const handle = await submitOne(newLauncher(), request);
    // A new launcher knows nothing but what process.json holds.
    const restarted = newLauncher();
    const fromDisk = JSON.parse(JSON.stringify(handle)) as LaunchHandle;
    expect(await restarted.status([fromDisk])).toEqual([{ state: 'running' }]);
    await waitFor(async () => (await restarted.status([fromDisk]))[0]!.state === 'finished');
    expect(existsSync(join(request.directory, 'done'))).toBe(true);
  });

  it('does not mistake another process that reused the pid for the job', async () => {
    const launcher = newLauncher();
    const handle = await submitOne(launcher, await jobRequest('reused', 'sleep 30\n'));
    // A handle read back long after its job ended, whose pid now runs something else.
    const elsewhere = { ...handle, directory: join(workspace, 'jobs', 'task', 'other'), submittedAt: new Date(Date.now() - 3_600_000).toISOString() };
    expect(await launcher.status([elsewhere])).toEqual([{ state: 'finished' }]);
    // Nor does it signal it.
    await launcher.cancel([elsewhere]);
    expect(await launcher.status([handle])).toEqual([{ state: 'running' }]);
  });

  it('answers unknown for a job that runs on another host', async () => {
    const launcher = newLauncher();
    const handle: LaunchHandle = {
      launcher: 'laptop',
      kind: 'local',
      host: `not-${connector.hostname}`,
      directory: join(workspace, 'x'),
      pid: process.pid,
      submittedAt: new Date().toISOString(),
    };
    const [status] = await launcher.status([handle]);
    expect(status!.state).toBe('unknown');
    expect(status!.detail).toContain(`not-${connector.hostname}`);
  });

  it('reports a job it cannot start as rejected', async () => {
    const launcher = newLauncher();
    const request = await jobRequest('gone', 'true\n');
    await rm(request.directory, { recursive: true });
    const [outcome] = await launcher.submit([request]);
    expect(outcome).toMatchObject({ failure: { code: null, reason: 'rejected' } });
    expect((outcome as { failure: { message: string } }).failure.message).toContain(request.directory);
  });
});

describe('plugin', () => {
  it('declares the local launcher with validated settings and defaults', async () => {
    expect(plugin.name).toBe('local');
    const factory = plugin.launchers.local;
    const settings = factory.settings.parse({ maxConcurrent: 3 });
    expect(settings).toEqual({ maxConcurrent: 3, pollInterval: 1000, cancelGraceMs: 3000 });
    const launcher = await factory.create(settings, { name: 'cpu', workspacePath: workspace, connector, logger });
    expect(launcher).toMatchObject({ name: 'cpu', kind: 'local', maxConcurrent: 3, pollIntervalMs: 1000 });
    expect(launcher.host.cores).toBeGreaterThan(0);
    expect(launcher.host.memory).toBeGreaterThan(0);
    const defaults = await factory.create(factory.settings.parse({}), {
      name: 'local',
      workspacePath: workspace,
      connector,
      logger,
    });
    expect(defaults.maxConcurrent).toBe(defaults.host.cores);
  });

  it('rejects unknown and invalid settings', () => {
    const typo = localLauncherSettings.safeParse({ maxConcurent: 4 });
    expect(typo.success).toBe(false);
    expect(JSON.stringify(typo.error?.issues)).toContain('maxConcurent');
    expect(localLauncherSettings.safeParse({ maxConcurrent: 0 }).success).toBe(false);
    expect(localLauncherSettings.safeParse({ pollInterval: '1s' }).success).toBe(false);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
