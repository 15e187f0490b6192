// `baton report`: an HTML page and a trace of an experiment run, or of a whole workspace,
// from the files on disk only (markers, process.json, the run's job index): no launcher is
// asked, so a report of a finished run is the same wherever and whenever it is made.
// The command line is declared in reportCommand.ts; this module is loaded when it runs.
import { chmod, readdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { listJobs, type JobRecord, type WorkspaceFiles } from '@baton/core/catalog';
import { readFileTail } from '../fileTail.ts';
import { reportHtml } from '../report/reportHtml.ts';
import { reportJobs } from '../report/reportJobs.ts';
import { formatTrace } from '../report/reportTrace.ts';
import { locateWorkspace } from '../workspaceOptions.ts';
import type { ReportCommandOptions } from './reportCommand.ts';

export async function reportCommand(options: ReportCommandOptions): Promise<void> {
  if (options.run !== undefined && options.experiment === undefined) {
    throw await userInputError('--run needs --experiment: a run id names a run of one experiment', { where: '--run', hint: 'add --experiment <name>' });
  }
  const output = resolve(options.output);
  const trace = resolve(options.trace);
  // Before reading anything: a typo in a path is told at once, and neither file is written.
  await checkFolder(output, '--output');
  await checkFolder(trace, '--trace');
  const located = await locateWorkspace(options);
  try {
    const files = located.opened?.connector ?? nodeFiles;
    const workspacePath = located.path;
    let records: JobRecord[];
    let title: string;
    if (options.experiment === undefined) {
      records = await listJobs({ workspacePath, connector: located.opened?.connector });
      title = `workspace ${workspacePath}`;
    } else {
      const run = await selectRun({ files, workspacePath, experiment: options.experiment, run: options.run });
      const order = await readRunIndex(files, run.path);
      const all = await listJobs({ workspacePath, connector: located.opened?.connector, experiment: options.experiment });
      const byKey = new Map(all.map((record) => [`${record.taskId}/${record.hash}`, record]));
      // In the order the run submitted them; a job since cleaned away is left out.
      records = order.flatMap((key) => byKey.get(key) ?? []);
      title = `experiment ${options.experiment}, run ${run.runId}`;
    }
    // A job's stderr can be gigabytes: only its end is read (on its host, for a remote workspace).
    const readJobFile = (directory: string, name: string) =>
      name === 'stderr' ? readFileTail({ path: join(directory, name), connector: located.opened?.connector }) : files.readFileIfExists(join(directory, name));
    const jobs = await reportJobs({ records, readFile: readJobFile });
    await writeAtomically(output, reportHtml({ title, jobs, generatedAt: new Date() }));
    await writeAtomically(trace, formatTrace(jobs, options.traceFormat));
    process.stdout.write(`Report: ${output}\nTrace:  ${trace}\n`);
  } finally {
    await located.opened?.close();
  }
}

// ---------------------------------------------------------------------------

type ReportFiles = Pick<WorkspaceFiles, 'readFileIfExists' | 'listDirectory' | 'readlink'>;

/** This machine's files, for a workspace given no connector. */
const nodeFiles: ReportFiles = {
  async readFileIfExists(path) {
    return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
  },
  async listDirectory(path) {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, kind: entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'file' }));
  },
  async readlink(path) {
    return readlink(path).catch(() => undefined);
  },
};

/** The run `--run` names (or the latest: the one `current` points to, else the newest). */
async function selectRun(options: { files: ReportFiles; workspacePath: string; experiment: string; run?: string }): Promise<{ runId: string; path: string }> {
  const { files, experiment } = options;
  const root = posix.join(options.workspacePath, 'experiments');
  const experiments = await directories(files, root);
  if (!experiments.includes(experiment)) {
    const { didYouMean } = await import('@baton/core');
    throw await userInputError(`No experiment "${experiment}" in the workspace${didYouMean(experiment, experiments)}`, {
      where: '--experiment',
      hint: experiments.length === 0 ? `no experiment has run in ${options.workspacePath} yet` : `experiments: ${experiments.sort().join(', ')}`,
    });
  }
  const base = posix.join(root, experiment);
  const runs = (await directories(files, base)).sort().reverse();
  if (options.run === undefined || options.run === 'latest') {
    const current = await files.readlink(posix.join(base, 'current')).catch(() => undefined);
    const runId = current !== undefined && runs.includes(posix.basename(current)) ? posix.basename(current) : runs[0];
    if (runId === undefined) throw await userInputError(`Experiment "${experiment}" has no run yet`, { where: '--experiment', hint: 'run it first: baton run-experiment' });
    return { runId, path: posix.join(base, runId) };
  }
  if (!runs.includes(options.run)) {
    const { didYouMean } = await import('@baton/core');
    throw await userInputError(`No run "${options.run}" of experiment "${experiment}"${didYouMean(options.run, runs)}`, {
      where: '--run',
      hint: runs.length === 0 ? 'the experiment has no run yet' : `runs, newest first: ${runs.slice(0, 5).join(', ')}${runs.length > 5 ? ', ...' : ''} (or "latest")`,
    });
  }
  return { runId: options.run, path: posix.join(base, options.run) };
}

/** `task-id/hash` of the jobs a run submitted, in order, each once: its `jobs.jsonl`, or the links of a run of an earlier version. */
async function readRunIndex(files: ReportFiles, runPath: string): Promise<string[]> {
  const keys = new Set<string>();
  const text = (await files.readFileIfExists(posix.join(runPath, 'jobs.jsonl')).catch(() => undefined)) ?? '';
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { taskId?: unknown; hash?: unknown } | null;
      if (typeof entry?.taskId === 'string' && typeof entry.hash === 'string') keys.add(`${entry.taskId}/${entry.hash}`);
    } catch {
      // a blank line, or one cut short: skipped
    }
  }
  const links = posix.join(runPath, 'jobs');
  for (const entry of await files.listDirectory(links).catch(() => [])) {
    if (entry.kind !== 'symlink') continue;
    const target = await files.readlink(posix.join(links, entry.name));
    if (target === undefined) continue;
    const directory = posix.resolve(links, target);
    keys.add(`${posix.basename(posix.dirname(directory))}/${posix.basename(directory)}`);
  }
  return [...keys];
}

async function directories(files: ReportFiles, path: string): Promise<string[]> {
  const entries = await files.listDirectory(path).catch(() => []);
  return entries.filter((entry) => entry.kind === 'directory').map((entry) => entry.name);
}

/** Readers see the old file or the new one, never half of one. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    // The mode given to writeFile passes through the umask.
    await chmod(temporary, 0o644);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function checkFolder(path: string, option: string): Promise<void> {
  const folder = dirname(path);
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw await userInputError(`Cannot write ${path}: no folder ${folder}`, { where: option, hint: `create the folder first, or give ${option} a path in an existing folder` });
}

async function userInputError(message: string, options: { where: string; hint: string }): Promise<Error> {
  const { UserInputError } = await import('@baton/core');
  return new UserInputError(message, options);
}
