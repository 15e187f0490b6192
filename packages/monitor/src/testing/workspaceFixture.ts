// A workspace on disk as experiments leave it, written by hand for the monitor's tests:
// a done job, a failed one that depends on it, one never finished, and a run's index.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DONE = 'a1'.repeat(32);
export const FAILED = 'b2'.repeat(32);
export const UNFINISHED = 'c3'.repeat(32);
export const RUN_ID = '20260101T120000-000';

export interface WorkspaceFixture {
  root: string;
  /** `<root>/ws` */
  path: string;
  jobDirectory(taskId: string, hash: string): string;
}

export async function createWorkspaceFixture(): Promise<WorkspaceFixture> {
  const root = await mkdtemp(join(tmpdir(), 'baton-monitor-'));
  const path = join(root, 'ws');
  const jobDirectory = (taskId: string, hash: string) => join(path, 'jobs', taskId, hash);
  const start = Date.parse('2026-01-01T12:00:00Z') / 1000;
  await writeJob({
    directory: jobDirectory('train', DONE),
    dependencies: [],
    files: { stdout: 'epoch 1\nepoch 2\n', stderr: 'a warning\n', done: JSON.stringify({ code: 0, start, end: start + 42.5, host: 'node1' }) },
  });
  await writeJob({
    directory: jobDirectory('evaluate', FAILED),
    dependencies: [{ taskId: 'train', hash: DONE, directory: jobDirectory('train', DONE) }],
    files: { stdout: '', stderr: 'Traceback: boom\n', failed: JSON.stringify({ code: 3, reason: 'failed', message: 'exit code 3', start: start + 50, end: start + 51, host: 'node2' }) },
  });
  await writeJob({ directory: jobDirectory('train', UNFINISHED), dependencies: [], files: { stdout: 'started\n' } });
  const run = join(path, 'experiments', 'sweep', RUN_ID);
  await mkdir(run, { recursive: true });
  await writeFile(join(run, 'jobs.jsonl'), `${JSON.stringify({ taskId: 'train', hash: DONE })}\n${JSON.stringify({ taskId: 'evaluate', hash: FAILED })}\n`);
  await symlink(RUN_ID, join(path, 'experiments', 'sweep', 'current'));
  // A service the run recorded, as an experiment process writes it for other processes.
  await writeFile(join(run, 'services.json'), JSON.stringify([{ id: 'tb', description: 'TensorBoard on the run folder', state: 'running', url: 'http://127.0.0.1:9/services/tb/', keep: false }]));
  return { root, path, jobDirectory };
}

async function writeJob(options: { directory: string; dependencies: { taskId: string; hash: string; directory: string }[]; files: Record<string, string> }): Promise<void> {
  const { directory } = options;
  await mkdir(directory, { recursive: true });
  const taskId = directory.split('/').at(-2)!;
  const hash = directory.split('/').at(-1)!;
  const params = { taskId, hash, params: {}, resolved: {}, dependencies: options.dependencies, command: ['true'], tokens: {}, env: {}, experiment: { name: 'sweep', runId: RUN_ID } };
  await writeFile(join(directory, 'params.json'), JSON.stringify(params));
  for (const [name, text] of Object.entries(options.files)) await writeFile(join(directory, name), text);
}
