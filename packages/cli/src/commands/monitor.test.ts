// `baton monitor` and `baton run-experiment --host/--port`: the real command serves the
// monitor, prints its URL with the token, warns when other machines can reach it, and the
// monitor's kill button cancels a job another process runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATON_BIN, runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

const URL_LINE = /^Monitor: (http:\/\/127\.0\.0\.1:(\d+))\/\?token=([A-Za-z0-9_-]+)$/m;

let dir: string;
const children: ChildProcess[] = [];
const jobPids: number[] = [];

beforeEach(async () => {
  dir = await createUserProject('baton-cli-monitor-');
  await writeFile(
    join(dir, 'nap.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const nap = defineTask({ id: 'nap', params: z.object({ seconds: z.number() }), command: (p) => ['sh', '-c', 'echo napping; sleep \"$0\"', String(p.seconds)] });",
      'export default defineExperiment({ configuration: z.object({ seconds: z.number() }), run({ xp, configuration }) { xp.submit(nap, { seconds: configuration.seconds }); } });',
      '',
    ].join('\n'),
  );
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of jobPids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BATON_BIN, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', HOME: dir, XDG_CONFIG_HOME: dir, BATON_WORKSPACE: '', BATON_MONITOR_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }), exited: new Promise((resolve) => child.once('close', resolve)) };
}

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A port free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function monitorAddress(running: Running): Promise<{ origin: string; port: number; token: string }> {
  const match = await waitFor(`the Monitor line (${JSON.stringify(running.output())})`, () => URL_LINE.exec(running.output().stdout) ?? undefined);
  return { origin: match[1]!, port: Number(match[2]), token: match[3]! };
}

describe('baton monitor', () => {
  it('serves a workspace on 127.0.0.1, prints its URL with the token, and stops on Ctrl-C', async () => {
    const workspace = join(dir, 'ws');
    await mkdir(join(workspace, 'jobs'), { recursive: true });
    const running = start(['monitor', '--workdir', workspace]);
    const { origin, token } = await monitorAddress(running);
    expect(token).toHaveLength(43);
    expect(running.output().stdout).toContain(`Serving workspace ${workspace}; press Ctrl-C to stop.`);
    expect((await fetch(`${origin}/api/overview`)).status).toBe(401);
    const overview = await fetch(`${origin}/api/overview`, { headers: { authorization: `Bearer ${token}` } });
    expect(await overview.json()).toMatchObject({ mode: 'workspace', workspace });
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    expect(running.output().stderr).toBe('');
  });

  it('takes the token from $BATON_MONITOR_TOKEN and a port from --port', async () => {
    const running = start(['monitor', '--workdir', dir, '--port', '0'], { BATON_MONITOR_TOKEN: 'a-token-set-by-the-user' });
    expect((await monitorAddress(running)).token).toBe('a-token-set-by-the-user');
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('warns when it listens on an address other machines reach', async () => {
    const running = start(['monitor', '--workdir', dir, '--host', '0.0.0.0']);
    const { port } = await monitorAddress(running);
    await waitFor('the warning', () => running.output().stderr.includes('fix:') || undefined);
    expect(running.output().stderr).toContain('warning: the monitor listens on 0.0.0.0: other machines can reach it');
    expect(running.output().stderr).toContain(`ssh -L ${port}:127.0.0.1:${port}`);
    running.child.kill('SIGINT');
    await running.exited;
  });

  it('refuses a port out of range as a usage error', async () => {
    const result = await runBaton(['monitor', '--workdir', dir, '--port', '70000'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a port from 0 (any free port) to 65535');
  });

  it("kills a job that another process's experiment runs, from the monitor", async () => {
    const workspace = join(dir, 'ws');
    const experiment = start(['run-experiment', '--file', 'nap.ts', '-c', 'id=naps', '-c', 'seconds=60', '--workdir', workspace]);
    const jobDir = await waitFor('the job to start', async () => {
      const tasks = join(workspace, 'jobs', 'nap');
      const [hash] = existsSync(tasks) ? await readdir(tasks) : [];
      return hash !== undefined && existsSync(join(tasks, hash, 'process.json')) ? join(tasks, hash) : undefined;
    });
    jobPids.push(JSON.parse(await readFile(join(jobDir, 'process.json'), 'utf8')).pid as number);
    const monitor = start(['monitor', '--workdir', workspace]);
    const { origin, token } = await monitorAddress(monitor);
    const hash = jobDir.split('/').at(-1)!;
    const headers = { authorization: `Bearer ${token}` };
    await waitFor('the job running', async () => ((await (await fetch(`${origin}/api/jobs?state=running`, { headers })).json()) as { total: number }).total === 1 || undefined);
    const kill = await fetch(`${origin}/api/jobs/nap/${hash}/kill`, { method: 'POST', headers });
    expect(await kill.json()).toEqual({ outcome: 'killed', message: 'killed' });
    expect(await experiment.exited).toBe(1);
    const failed = JSON.parse(await readFile(join(jobDir, 'failed'), 'utf8')) as { reason: string };
    expect(failed.reason).toBe('cancelled');
    monitor.child.kill('SIGINT');
    await monitor.exited;
  });
});

describe('baton run-experiment --host/--port', () => {
  it('serves the monitor of the run while it runs (--port 0: a free port), and ends with it', async () => {
    const running = start(['run-experiment', '--file', 'nap.ts', '-c', 'id=watched', '-c', 'seconds=3', '--workdir', join(dir, 'ws'), '--port', '0']);
    const { origin, token } = await monitorAddress(running);
    const headers = { authorization: `Bearer ${token}` };
    const overview = (await (await fetch(`${origin}/api/overview`, { headers })).json()) as { mode: string; experiment: { name: string } };
    expect(overview).toMatchObject({ mode: 'experiment', experiment: { name: 'watched' } });
    const jobs = await waitFor('the job in the monitor', async () => {
      const body = (await (await fetch(`${origin}/api/jobs`, { headers })).json()) as { jobs: { taskId: string; state: string }[] };
      return body.jobs.length === 1 ? body.jobs : undefined;
    });
    expect(jobs[0]!.taskId).toBe('nap');
    expect(await running.exited).toBe(0);
    expect(running.output().stdout).toMatch(/Finished: 1 job \(1 done\)/);
    await expect(fetch(`${origin}/api/overview`, { headers })).rejects.toThrow();
  });

  it("prints the URL of a settings file's service once it serves; the monitor lists it and reaches it through its proxy, with the token only", async () => {
    // Python's http.server as a `process` service, over a folder that has the path the proxy forwards unchanged.
    await mkdir(join(dir, 'site', 'services', 'web'), { recursive: true });
    await writeFile(join(dir, 'site', 'services', 'web', 'index.html'), '<h1>served by http.server</h1>\n');
    await writeFile(
      join(dir, 'baton.config.yaml'),
      ['workspaces:', '  - id: main', '    path: ws', '    services:', "      web: { use: process, command: [python3, -m, http.server, '{port}', --bind, '{host}'], cwd: site, path: /services/web/ }", ''].join('\n'),
    );
    const running = start(['run-experiment', '--file', 'nap.ts', '-c', 'id=served', '-c', 'seconds=4', '-c', 'services=[web]', '--port', '0']);
    const { origin, token } = await monitorAddress(running);
    const direct = (await waitFor('the service line', () => /^service web: (http:\/\/127\.0\.0\.1:\d+\/services\/web\/)$/m.exec(running.output().stdout) ?? undefined))[1]!;
    const headers = { authorization: `Bearer ${token}` };
    const overview = (await (await fetch(`${origin}/api/overview`, { headers })).json()) as { services: unknown[] };
    expect(overview.services).toEqual([expect.objectContaining({ id: 'web', state: 'running', href: 'services/web/' })]);
    const proxied = await fetch(`${origin}/services/web/`, { headers });
    expect(proxied.status).toBe(200);
    expect(await proxied.text()).toBe('<h1>served by http.server</h1>\n');
    expect((await fetch(`${origin}/services/web/`)).status).toBe(401);
    expect(await (await fetch(direct)).text()).toBe('<h1>served by http.server</h1>\n');
    expect(await running.exited).toBe(0);
    // Stopped with the experiment (not kept).
    await expect(fetch(direct)).rejects.toThrow();
  });

  it('serves it with --host alone, on a free port, warning when other machines can reach it; --port N takes port N', async () => {
    const running = start(['run-experiment', '--file', 'nap.ts', '-c', 'id=hosted', '-c', 'seconds=1', '--workdir', join(dir, 'ws'), '--host', '0.0.0.0']);
    const { port } = await monitorAddress(running);
    expect(port).toBeGreaterThan(0);
    expect(await running.exited).toBe(0);
    expect(running.output().stderr).toContain('warning: the monitor listens on 0.0.0.0: other machines can reach it');
    const free = await freePort();
    const onPort = start(['run-experiment', '--file', 'nap.ts', '-c', 'id=ported', '-c', 'seconds=1', '--workdir', join(dir, 'ws'), '--port', String(free)]);
    expect((await monitorAddress(onPort)).port).toBe(free);
    expect(await onPort.exited).toBe(0);
    expect(onPort.output().stderr).not.toContain('warning');
  });

  it('serves none with a negative port, or with neither option', async () => {
    for (const extra of [['--port', '-1'], []]) {
      const result = await runBaton(['run-experiment', '--file', 'nap.ts', '-c', 'id=unwatched', '-c', 'seconds=0', '--workdir', join(dir, 'ws'), ...extra], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toContain('Monitor:');
    }
  });
});
