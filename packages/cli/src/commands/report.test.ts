// `baton report` on a real experiment run with the local launcher: one job done, one failed
// (with stderr and a hostile parameter), one failed because its dependency did; and on a
// function task, whose peak memory its marker records.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSize } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';
import { reportJobs } from '../report/reportJobs.ts';
import { TRACE_COLUMNS } from '../report/reportTrace.ts';

const HOSTILE = '<script>alert("x")</script>&';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let dir: string;
let workspace: string;
let runId: string;

beforeAll(async () => {
  dir = await createUserProject('baton-cli-report-');
  workspace = join(dir, 'workspace');
  await writeFile(
    join(dir, 'report.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const ok = defineTask({ id: 'ok', params: z.object({ label: z.string() }), command: (p) => ['sh', '-c', 'sleep 0.2; echo fine', p.label] });",
      "export const boom = defineTask({ id: 'boom', params: z.object({ label: z.string() }), command: (p) => ['sh', '-c', 'for i in $(seq 1 30); do echo \"line $i\" >&2; done; echo \"$0\" >&2; exit 3', p.label] });",
      "export const after = defineTask({ id: 'after', params: z.object({ input: z.string() }), command: (p) => ['cat', p.input] });",
      'export default defineExperiment({ run({ xp }) {',
      "  xp.submit(ok, { label: 'plain' });",
      `  const failing = xp.submit(boom, { label: ${JSON.stringify(HOSTILE)} });`,
      "  xp.submit(after, { input: failing.path('out.txt') });",
      '} });',
      '',
    ].join('\n'),
  );
  const run = await runBaton(['run-experiment', '--file', 'report.ts', '-c', 'id=rep', '--workdir', workspace], { cwd: dir });
  expect(run.code, run.stderr).toBe(1);
  runId = (await readdir(join(workspace, 'experiments', 'rep'))).find((name) => name !== 'current')!;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readTsv(path: string): Promise<Record<string, string>[]> {
  const [header, ...lines] = (await readFile(path, 'utf8')).trimEnd().split('\n');
  const columns = header!.split('\t');
  return lines.map((line) => Object.fromEntries(line.split('\t').map((cell, i) => [columns[i], cell])));
}

describe('baton report', () => {
  it('writes report.html and trace.tsv in the working directory, mode 0644, and prints their paths', async () => {
    const result = await runBaton(['report', '--experiment', 'rep', '--workdir', workspace], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Report: ${join(dir, 'report.html')}\nTrace:  ${join(dir, 'trace.tsv')}\n`);
    for (const file of ['report.html', 'trace.tsv']) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o644);
    // No temporary file left beside them.
    expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('traces one row per job, in the order the run submitted them, with the columns of a trace', async () => {
    await runBaton(['report', '--experiment', 'rep', '--run', runId, '--workdir', workspace, '--trace', 'run.tsv'], { cwd: dir });
    const text = await readFile(join(dir, 'run.tsv'), 'utf8');
    expect(text.split('\n')[0]).toBe(TRACE_COLUMNS.join('\t'));
    const [ok, boom, after, ...rest] = await readTsv(join(dir, 'run.tsv'));
    expect(rest).toEqual([]);
    expect(ok).toMatchObject({ task_id: '1', task: 'ok', state: 'done', reason: '', exit: '0', launcher: 'local', launcher_kind: 'local', peak_rss: '' });
    expect(ok!.hash).toMatch(/^[0-9a-f]{64}$/);
    for (const column of ['submitted', 'started', 'ended']) expect(ok![column]).toMatch(ISO);
    expect(Number(ok!.duration)).toBeGreaterThan(0);
    expect(ok!.host).not.toBe('');
    expect(ok!.directory).toBe(join(workspace, 'jobs', 'ok', ok!.hash!));
    expect(boom).toMatchObject({ task_id: '2', task: 'boom', state: 'failed', reason: 'failed', exit: '3', launcher: 'local' });
    // Never handed to a launcher: no times, host or exit code.
    expect(after).toMatchObject({ task_id: '3', task: 'after', state: 'failed', reason: 'dependency', exit: '', submitted: '', started: '', host: '', launcher: '' });
  });

  it('writes JSON lines with the same keys on every line with --trace-format jsonl', async () => {
    const result = await runBaton(['report', '--experiment', 'rep', '--run', 'latest', '--workdir', workspace, '--trace', 'trace.jsonl', '--trace-format', 'jsonl'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    const rows = (await readFile(join(dir, 'trace.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows.map((row) => Object.keys(row))).toEqual(rows.map(() => [...TRACE_COLUMNS]));
    expect(rows.map((row) => [row.task, row.state, row.exit])).toEqual([
      ['ok', 'done', 0],
      ['boom', 'failed', 3],
      ['after', 'failed', null],
    ]);
    expect(rows[0]!.peak_rss).toBeNull();
  });

  it('shows the jobs, the failure with the last lines of its stderr, and escapes what the jobs hold', async () => {
    await runBaton(['report', '--experiment', 'rep', '--workdir', workspace, '--output', 'page.html'], { cwd: dir });
    const html = await readFile(join(dir, 'page.html'), 'utf8');
    expect(html).toContain(`run ${runId}`);
    for (const task of ['ok', 'boom', 'after']) expect(html).toContain(`<td data-sort="${task}">${task}</td>`);
    expect(html).toContain('Failures (2)');
    expect(html).toContain('line 30');
    expect(html).toContain('line 12');
    // Only the last 20 lines of stderr (30 lines and the label: line 12 to line 30, and the label).
    expect(html).not.toContain('line 11\n');
    expect(html).toContain('dependency boom/');
    // The hostile label, in params and stderr: escaped, never markup.
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;');
    expect(html.match(/<script>/g)).toHaveLength(1);
    // Self-contained: no link, source or URL to fetch.
    expect(html).not.toMatch(/\s(src|href)=|https?:\/\/|@import/);
    expect(html).toContain('<svg');
  });

  it('reports on every job of the workspace when no experiment is named', async () => {
    const result = await runBaton(['report', '--workdir', workspace, '--trace', 'all.tsv', '--output', 'all.html'], { cwd: dir });
    expect(result.code).toBe(0);
    const rows = await readTsv(join(dir, 'all.tsv'));
    expect(rows.map((row) => row.task).sort()).toEqual(['after', 'boom', 'ok']);
    expect(await readFile(join(dir, 'all.html'), 'utf8')).toContain(`workspace ${workspace}`);
  });

  it('refuses an unknown experiment or run with one error that suggests the right one, and writes nothing', async () => {
    const experiment = await runBaton(['report', '--experiment', 'rpe', '--workdir', workspace, '--output', 'bad.html'], { cwd: dir });
    expect(experiment.code).toBe(2);
    expect(experiment.stderr).toContain('No experiment "rpe" in the workspace (did you mean "rep"?)');
    expect(experiment.stderr).not.toMatch(/\n\s+at .*\.js/);
    const run = await runBaton(['report', '--experiment', 'rep', '--run', `${runId}x`, '--workdir', workspace, '--output', 'bad.html'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`No run "${runId}x" of experiment "rep" (did you mean "${runId}"?)`);
    const noExperiment = await runBaton(['report', '--run', 'latest', '--workdir', workspace, '--output', 'bad.html'], { cwd: dir });
    expect(noExperiment.code).toBe(2);
    expect(noExperiment.stderr).toContain('--run needs --experiment');
    const format = await runBaton(['report', '--workdir', workspace, '--trace-format', 'csv'], { cwd: dir });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("'csv' is invalid");
    const folder = await runBaton(['report', '--workdir', workspace, '--output', 'bad.html', '--trace', 'missing/trace.tsv'], { cwd: dir });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`Cannot write ${join(dir, 'missing', 'trace.tsv')}: no folder ${join(dir, 'missing')}`);
    expect(existsSync(join(dir, 'bad.html'))).toBe(false);
  });
});

describe('baton report on a function task', () => {
  let memory: string;
  let rows: Record<string, string>[];

  beforeAll(async () => {
    memory = join(dir, 'memory');
    // The task holds 64 MiB it has written to: its peak is its own, not the experiment's.
    await writeFile(
      join(dir, 'memoryTasks.ts'),
      [
        "import { z } from 'zod';",
        "import { defineTask } from '@baton/core/task';",
        "export const hold = defineTask({ id: 'hold', params: z.object({ mib: z.number() }), run: ({ mib }) => { const block = Buffer.alloc(mib * 1024 * 1024, 1); console.log(block.length); } });",
        "export const shell = defineTask({ id: 'shell', params: z.object({}), command: () => ['true'] });",
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'memory.ts'),
      [
        "import { defineExperiment } from '@baton/core';",
        "import { hold, shell } from './memoryTasks.ts';",
        'export default defineExperiment({ run({ xp }) { xp.submit(hold, { mib: 64 }); xp.submit(shell, {}); } });',
        '',
      ].join('\n'),
    );
    const run = await runBaton(['run-experiment', '--file', 'memory.ts', '-c', 'id=mem', '--workdir', memory], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const result = await runBaton(['report', '--workdir', memory, '--output', 'memory.html', '--trace', 'memory.tsv'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    rows = await readTsv(join(dir, 'memory.tsv'));
  });

  it("records the function task's peak memory in its done marker, the trace and the page; a command task has none", async () => {
    const hold = rows.find((row) => row.task === 'hold')!;
    const shell = rows.find((row) => row.task === 'shell')!;
    const marker = JSON.parse(await readFile(join(hold.directory!, 'done'), 'utf8')) as { peakRssBytes?: number };
    // At least the 64 MiB it held; far less than a runaway.
    expect(marker.peakRssBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(marker.peakRssBytes).toBeLessThan(2 * 1024 ** 3);
    expect(hold).toMatchObject({ state: 'done', launcher: 'local', peak_rss: String(marker.peakRssBytes) });
    expect(shell).toMatchObject({ state: 'done', launcher: 'local', peak_rss: '' });
    expect(JSON.parse(await readFile(join(shell.directory!, 'done'), 'utf8'))).not.toHaveProperty('peakRssBytes');
    const html = await readFile(join(dir, 'memory.html'), 'utf8');
    expect(html).toContain('>peak memory</th>');
    expect(html).toContain(`<td data-sort="${marker.peakRssBytes}">${formatSize(marker.peakRssBytes!)}</td>`);
  });

  it('lists the peak memory in the provenance of `baton jobs list --json`', async () => {
    const result = await runBaton(['jobs', 'list', '--workdir', memory, '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const jobs = JSON.parse(result.stdout) as { taskId: string; provenance?: { peakRssBytes?: number } }[];
    const hold = rows.find((row) => row.task === 'hold')!;
    expect(jobs.find((job) => job.taskId === 'hold')!.provenance).toMatchObject({ exitCode: 0, peakRssBytes: Number(hold.peak_rss) });
    expect(jobs.find((job) => job.taskId === 'shell')!.provenance).not.toHaveProperty('peakRssBytes');
  });
});

describe('baton report on a large stderr', () => {
  it('reads only its end and shows its last lines', async () => {
    const other = join(dir, 'large');
    const job = join(other, 'jobs', 'noisy', 'abcdef0123456789');
    await mkdir(job, { recursive: true });
    await writeFile(join(job, 'params.json'), JSON.stringify({ taskId: 'noisy', params: {} }));
    await writeFile(join(job, 'failed'), JSON.stringify({ code: 1, reason: 'failed', message: 'exited with code 1' }));
    const lines = Array.from({ length: 100_000 }, (_, i) => `noise ${i}`);
    await writeFile(join(job, 'stderr'), `${lines.join('\n')}\nthe last line\n`);
    const result = await runBaton(['report', '--workdir', other, '--output', 'large.html', '--trace', 'large.tsv'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const html = await readFile(join(dir, 'large.html'), 'utf8');
    expect(html).toContain('noise 99999\nthe last line</pre>');
    expect(html).toContain('>noise 99981\n');
    expect(html).not.toContain('noise 99980\n');
  });
});

describe('baton report on a job still queued on a cluster', () => {
  it('traces it as queued with its hand-over time and cluster id, from its files alone (no cluster is asked)', async () => {
    const other = join(dir, 'queued');
    const job = join(other, 'jobs', 'train', '0123456789abcdef');
    await mkdir(job, { recursive: true });
    await writeFile(join(job, 'params.json'), JSON.stringify({ taskId: 'train', params: { lr: 0.1 } }));
    const handle = { launcher: 'cluster', kind: 'slurm', host: 'login-node', directory: job, clusterId: '4242', submittedAt: '2026-12-01T10:00:00.000Z' };
    await writeFile(join(job, 'process.json'), JSON.stringify(handle));
    const result = await runBaton(['report', '--workdir', other, '--output', 'queued.html', '--trace', 'queued.tsv'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const [row, ...rest] = await readTsv(join(dir, 'queued.tsv'));
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ task: 'train', state: 'queued', submitted: '2026-12-01T10:00:00.000Z', started: '', exit: '', host: 'login-node', launcher: 'cluster', launcher_kind: 'slurm', cluster_id: '4242' });
    const html = await readFile(join(dir, 'queued.html'), 'utf8');
    expect(html).toContain('cluster · login-node');
    expect(html).toMatch(/<g class="bar"[^>]*><title>train\/0123456789ab \(queued\)/);
  });
});

describe('reportJobs', () => {
  it('keeps the last 20 lines of a failed job stderr and waits from hand-over to start', async () => {
    const stderr = `${Array.from({ length: 25 }, (_, i) => `e${i + 1}`).join('\n')}\n`;
    const [job] = await reportJobs({
      records: [
        {
          taskId: 't',
          hash: 'ab',
          directory: '/w/jobs/t/ab',
          state: 'failed',
          experiments: [],
          failure: { code: 1, reason: 'timeout', message: 'time limit' },
          provenance: { startedAt: '2026-01-01T00:00:05.000Z', endedAt: '2026-01-01T00:01:05.000Z', host: 'node1', exitCode: 1 },
          handle: { launcher: 'cluster', kind: 'slurm', host: 'login', directory: '/w/jobs/t/ab', clusterId: '42', submittedAt: '2026-01-01T00:00:00.000Z' },
        },
      ],
      readFile: async (_directory, name) => (name === 'stderr' ? stderr : undefined),
    });
    expect(job).toMatchObject({ reason: 'timeout', exitCode: 1, host: 'node1', launcher: 'cluster', clusterId: '42', waitSeconds: 5, durationSeconds: 60 });
    expect(job!.stderrTail).toEqual(Array.from({ length: 20 }, (_, i) => `e${i + 6}`));
  });
});
