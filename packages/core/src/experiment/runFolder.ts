// The folder of one experiment run: `<workspace>/experiments/<name>/<run-id>`, the
// `current` link to the latest run, and the index of the jobs a run submitted:
// `jobs.jsonl`, one JSON line per job, appended in batches. Runs written by
// earlier versions hold a `jobs/` folder of links instead (`<task-id>--<hash>`
// to the job directory); readers take both.
import { appendFile, mkdir, readdir, readFile, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** The index of the jobs a run submitted, in the run folder. */
export const RUN_JOB_INDEX = 'jobs.jsonl';
/** The folder of job links of a run written by an earlier version. */
export const LEGACY_RUN_JOB_LINKS = 'jobs';

/** One line of `jobs.jsonl`; the job's directory is `<workspace>/jobs/<taskId>/<hash>`. */
export interface RunJobEntry {
  taskId: string;
  hash: string;
}

export function runIdFor(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '-').replace('Z', '');
}

export async function makeRunDirectory(base: string, runId: string): Promise<string> {
  await mkdir(base, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const path = join(base, attempt === 0 ? runId : `${runId}-${attempt}`);
    try {
      await mkdir(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
    }
  }
}

export async function readCurrentRun(base: string): Promise<string | undefined> {
  return readlink(join(base, 'current')).catch(() => undefined);
}

export async function pointCurrentRun(base: string, runId: string): Promise<void> {
  const temporary = join(base, `.current-${process.pid}`);
  await unlink(temporary).catch(() => undefined);
  await symlink(runId, temporary);
  await rename(temporary, join(base, 'current'));
}

export async function listRuns(base: string): Promise<string[]> {
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .reverse();
}

export interface RunJobIndexOptions {
  /** The run folder. */
  runPath: string;
  /** An append that failed; the run goes on without its index (it is for people and `jobs list`). */
  onError(error: unknown): void;
}

/**
 * Appends the jobs a run submits to its `jobs.jsonl`: the lines of one tick go
 * in one write (10,000 jobs submitted in a loop make one append, not 10,000 files).
 */
export class RunJobIndex {
  readonly path: string;
  readonly #onError: (error: unknown) => void;
  #lines: string[] = [];
  readonly #prefixes = new Map<string, string>();
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;

  constructor(options: RunJobIndexOptions) {
    this.path = join(options.runPath, RUN_JOB_INDEX);
    this.#onError = options.onError;
  }

  add(entry: RunJobEntry): void {
    // The same text as JSON.stringify({ taskId, hash }), the task id quoted once per task (a hash is hex).
    let prefix = this.#prefixes.get(entry.taskId);
    if (prefix === undefined) this.#prefixes.set(entry.taskId, (prefix = `{"taskId":${JSON.stringify(entry.taskId)},"hash":"`));
    this.#lines.push(`${prefix}${entry.hash}"}`);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the submitting loop: a tick's jobs go in one append, in submit order.
    setImmediate(() => {
      this.#scheduled = false;
      const lines = this.#lines;
      this.#lines = [];
      this.#writing = this.#writing.then(() => appendFile(this.path, `${lines.join('\n')}\n`).catch((error: unknown) => this.#onError(error)));
    });
  }

  /** Resolves once every job added so far is in the file (or its append failed). */
  async flushed(): Promise<void> {
    while (this.#scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.#writing;
  }
}

/** Where a run's job index is: its `jobs.jsonl`, or the `jobs/` folder of links of a run of an earlier version. */
export function runJobIndexPath(runPath: string, exists: (path: string) => boolean): string {
  const index = join(runPath, RUN_JOB_INDEX);
  const legacy = join(runPath, LEGACY_RUN_JOB_LINKS);
  return !exists(index) && exists(legacy) ? legacy : index;
}

/**
 * The jobs a run submitted, in the order it submitted them, each once: from its
 * `jobs.jsonl` and, for a run of an earlier version, its `jobs/` folder of links.
 * A line cut short (a process killed mid-append) or not an entry is skipped.
 */
export async function readRunJobs(runPath: string): Promise<RunJobEntry[]> {
  const seen = new Set<string>();
  const entries: RunJobEntry[] = [];
  const add = (entry: RunJobEntry) => {
    const key = `${entry.taskId}/${entry.hash}`;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  const text = await readFile(join(runPath, RUN_JOB_INDEX), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const entry = parseRunJobLine(line);
    if (entry) add(entry);
  }
  const links = join(runPath, LEGACY_RUN_JOB_LINKS);
  for (const name of (await readdir(links).catch(() => [] as string[])).sort()) {
    const target = await readlink(join(links, name)).catch(() => undefined);
    if (target === undefined) continue;
    const directory = resolve(links, target);
    add({ taskId: basename(dirname(directory)), hash: basename(directory) });
  }
  return entries;
}

/** Longest file name on common file systems. */
const MAX_FILE_NAME = 255;

/** Name of a job's link in a run of an earlier version: `<task-id>--<hash>`, the task id cut to fit a file name. */
export function jobLinkName(taskId: string, hash: string): string {
  const suffix = `--${hash}`;
  return `${taskId.slice(0, MAX_FILE_NAME - suffix.length)}${suffix}`;
}

/** One line of `jobs.jsonl`; undefined for a blank line, or one cut short (a process killed mid-append). */
export function parseRunJobLine(line: string): RunJobEntry | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<RunJobEntry> | null;
    if (typeof value?.taskId === 'string' && typeof value.hash === 'string' && /^[0-9a-f]+$/.test(value.hash)) return { taskId: value.taskId, hash: value.hash };
  } catch {
    // cut short: skipped
  }
  return undefined;
}
