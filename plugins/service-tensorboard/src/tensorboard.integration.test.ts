// Against the real TensorBoard of `bash scripts/tensorboard-venv.sh start`: a job writes
// scalars with TensorBoard's own event writer, the test reads them back through
// TensorBoard's HTTP API under /services/<id>/, and no tensorboard process is left.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError, defineTask, experiment, RUN_SERVICES_FILE, type ServiceLike } from '@baton/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { TensorBoardService, tensorboard } from './index.ts';
import { probeTensorBoard, SETUP_HINT, WRITE_SCALARS, writeScalars, type TestTensorBoard } from './testing/tensorboardVenv.ts';

const PLUGIN_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));

const probe = await probeTensorBoard();
const inCI = process.env.CI === 'true';
if (!probe.found && !inCI) console.warn(`TensorBoard integration tests skipped: ${probe.problem}; ${SETUP_HINT}`);

/** A job that writes `steps` points of `loss` into `runDir` with TensorBoard's event writer. */
const writeLoss = defineTask({
  id: 'tensorboard-it-write-loss',
  params: z.object({ python: z.string(), runDir: z.string(), steps: z.int() }),
  command: ({ python, runDir, steps }) => [python, WRITE_SCALARS, runDir, 'loss', String(steps)],
});

type Point = [wallTime: number, step: number, value: number];

let dir: string;
let tb: TestTensorBoard;
const leftRunning: ServiceLike[] = [];

beforeAll(async () => {
  if (!probe.found) throw new Error(`no TensorBoard for the integration tests: ${probe.problem}; ${SETUP_HINT}`);
  tb = probe.found;
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.allSettled(leftRunning.splice(0).map((service) => service.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function project(services = ''): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'baton-tensorboard-it-'));
  await writeFile(join(dir, 'baton.config.yaml'), [`plugins: [${JSON.stringify(PLUGIN_ENTRY)}]`, 'workspaces:', '  - id: main', '    path: ws', services].join('\n'));
  return dir;
}

/** GET a TensorBoard JSON route until it answers 200 (TensorBoard loads event files every reloadInterval). */
async function getJson<T>(url: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url);
    if (response.status === 200) return (await response.json()) as T;
    if (Date.now() > deadline) throw new Error(`GET ${url}: still ${response.status} after ${timeoutMs} ms: ${await response.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function groupAlive(pid: number): Promise<boolean> {
  try {
    process.kill(-pid, 0);
  } catch {
    return false;
  }
  // A zombie leader still answers signal 0 until it is reaped: ask /proc.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) [ZX] /.test(stat);
}

function expectLoss(points: Point[], steps: number): void {
  expect(points.map(([, step]) => step)).toEqual([...Array(steps).keys()]);
  for (const [wallTime, step, value] of points) {
    expect(wallTime).toBeGreaterThan(1_600_000_000);
    expect(value).toBeCloseTo(1 / (step + 1), 6);
  }
}

describe.skipIf(!probe.found && !inCI)('TensorBoard service (real tensorboard)', () => {
  it('shows the run folder of its experiment: a job writes scalars, TensorBoard serves them under /services/<id>/, and stops with the experiment', async () => {
    await project();
    // What the test venv does for a user: $BATON_TENSORBOARD names the executable.
    vi.stubEnv('BATON_TENSORBOARD', tb.tensorboard);
    const xp = await experiment({ name: 'tensorboard-code', cwd: dir });
    const service = await xp.useService(tensorboard({ reloadInterval: 1 }));
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\/tensorboard\/$/);
    expect(service.logdir).toBe(xp.path);
    const pid = service.pid!;

    const job = xp.submit(writeLoss, { python: tb.python, runDir: join(xp.path, 'train'), steps: 10 });
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(1);
    expect(job.state).toBe('done');

    const points = await getJson<Point[]>(`${service.url}data/plugin/scalars/scalars?run=train&tag=loss`);
    expectLoss(points, 10);
    expect(await getJson<string[]>(`${service.url}data/runs`)).toEqual(['train']);
    // The UI itself, under the same prefix; nothing outside it.
    const page = await fetch(service.url!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await fetch(service.url!.replace(/services\/tensorboard\/$/, 'data/runs'))).status).toBe(404);

    const url = service.url!;
    await xp.close();
    expect(service.state).toBe('stopped');
    expect(await groupAlive(pid)).toBe(false);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('runs a service of the settings file (use: tensorboard) started by name, and a kept one outlives the experiment', async () => {
    await project(
      [
        '    services:',
        `      tb: { use: tensorboard, logdir: logs, reloadInterval: 1, command: [${JSON.stringify(tb.tensorboard)}], keep: true }`,
      ].join('\n'),
    );
    await writeScalars({ python: tb.python, runDir: join(dir, 'logs', 'eval'), tag: 'loss', count: 5 });
    const xp = await experiment({ name: 'tensorboard-settings', cwd: dir });
    const service = (await xp.useService('tb')) as TensorBoardService;
    leftRunning.push(service);
    expect(service).toMatchObject({ id: 'tb', state: 'running', keep: true, logdir: join(dir, 'logs') });
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\/tb\/$/);
    expectLoss(await getJson<Point[]>(`${service.url}data/plugin/scalars/scalars?run=eval&tag=loss`), 5);
    // Points written while it serves show up too (reloadInterval 1 s).
    await writeScalars({ python: tb.python, runDir: join(dir, 'logs', 'eval'), tag: 'loss', count: 5, firstStep: 5 });
    await expect.poll(async () => (await getJson<Point[]>(`${service.url}data/plugin/scalars/scalars?run=eval&tag=loss`)).length, { timeout: 15_000 }).toBe(10);

    await xp.close();
    // Kept: still serving after the experiment, recorded as running in the run's services.json.
    expect(service.state).toBe('running');
    expect((await fetch(`${service.url}data/runs`)).status).toBe(200);
    const recorded = JSON.parse(await readFile(join(xp.path, RUN_SERVICES_FILE), 'utf8')) as unknown[];
    expect(recorded).toEqual([expect.objectContaining({ id: 'tb', state: 'running', keep: true, url: service.url, pid: service.pid })]);
    const pid = service.pid!;
    await service.stop();
    expect(await groupAlive(pid)).toBe(false);
  });

  it('fails to start with TensorBoard\'s own words when it refuses its arguments', async () => {
    await project();
    await using xp = await experiment({ name: 'tensorboard-bad-args', cwd: dir });
    const error = (await xp.useService(tensorboard({ command: [tb.tensorboard], args: ['--no-such-flag'] })).then(() => undefined, (caught: unknown) => caught)) as BatonError;
    expect(error).toBeInstanceOf(BatonError);
    expect(error.message).toMatch(/^Service "tensorboard" did not start: ".*tensorboard" exited \(exit code \d+\) before it answered on http:\/\/127\.0\.0\.1:\d+\/services\/tensorboard\/data\/runs; its output ended with:\n/);
    expect(error.message).toContain('--no-such-flag');
    expect(error.where).toBe(join(xp.path, 'services', 'tensorboard.log'));
  });

  it('says how to install TensorBoard when its command is missing', async () => {
    await project();
    await using xp = await experiment({ name: 'tensorboard-missing', cwd: dir });
    const error = (await xp.useService(tensorboard({ command: [join(dir, 'venv', 'bin', 'tensorboard')] })).then(() => undefined, (caught: unknown) => caught)) as BatonError;
    expect(error).toBeInstanceOf(BatonError);
    expect(error.message).toBe(`TensorBoard is not installed: the command "${join(dir, 'venv', 'bin', 'tensorboard')}" given as \`command\` does not exist or is not executable (service "tensorboard")`);
    expect(error.hint).toContain('python3 -m venv ~/tb && ~/tb/bin/pip install tensorboard');
  });
});
