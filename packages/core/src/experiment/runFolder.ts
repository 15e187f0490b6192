// The folder of one experiment run: `<workspace>/experiments/<name>/<run-id>`, the
// `current` link to the latest run, and the index of the jobs a run submitted:
// `jobs.jsonl`, one JSON line per job, appended in batches. Runs written by
// earlier versions hold a `jobs/` folder of links instead (`<task-id>--<hash>`
// to the job directory); readers take both.
// Every file goes through the workspace's connector: the workspace may live on another host.
import { posix } from 'node:path';
import type { Connector } from '../types.ts';

const { basename, dirname, join, resolve } = posix;

/** The index of the jobs a run submitted, in the run folder. */
export const RUN_JOB_INDEX = 'jobs.jsonl';
/** The folder of job links of a run written by an earlier version. */
export const LEGACY_RUN_JOB_LINKS = 'jobs';
/** What a run saves: `results/` for people, `data/` for `xp.save` / `xp.load`. */
const RUN_FOLDERS = ['results', 'data'];

/** One line of `jobs.jsonl`; the job's directory is `<workspace>/jobs/<taskId>/<hash>`. */
export interface RunJobEntry {
  taskId: string;
  hash: string;
}

/** A new run of an experiment, and what is known of its earlier runs. */
export interface OpenedRun {
  runId: string;
  /** `<base>/<run-id>` */
  path: string;
  /** The run `current` pointed to before this one. */
  previousRun?: string;
  /** The previous run's job index (see `runJobIndexPath`). */
  previousIndex?: string;
  /** Job indexes of the older runs, newest first. */
  olderIndexes: string[];
}

/**
 * Starts a run in `base` (`<workspace>/experiments/<name>`): reads the earlier
 * runs, then, unless `dryRun`, makes the run folder with its `results/` and
 * `data/` and points `current` at it (a dry run writes nothing).
 */
export async function openRun(options: { connector: Connector; base: string; date: Date; dryRun: boolean }): Promise<OpenedRun> {
  const { connector, base } = options;
  const [previousRun, runs] = await Promise.all([readCurrentRun(connector, base), listRuns(connector, base)]);
  const olderRuns = runs.filter((run) => run !== previousRun);
  const [previousIndex, olderIndexes] = await Promise.all([
    previousRun === undefined ? undefined : runJobIndexPath(connector, join(base, previousRun)),
    Promise.all(olderRuns.map((run) => runJobIndexPath(connector, join(base, run)))),
  ]);
  let runId = runIdFor(options.date);
  let path = join(base, runId);
  if (!options.dryRun) {
    path = await makeRunDirectory(connector, base, runId);
    runId = basename(path);
    await Promise.all(RUN_FOLDERS.map((folder) => connector.mkdir(join(path, folder))));
    await pointCurrentRun(connector, base, runId);
  }
  return { runId, path, previousRun, previousIndex, olderIndexes };
}

export function runIdFor(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '-').replace('Z', '');
}

/** Makes `<base>/<runId>`, or `<runId>-1`, `-2`... when another process took that name first. */
export async function makeRunDirectory(connector: Connector, base: string, runId: string): Promise<string> {
  await connector.mkdir(base);
  for (let attempt = 0; ; attempt++) {
    const path = join(base, attempt === 0 ? runId : `${runId}-${attempt}`);
    try {
      await connector.mkdir(path, { exclusive: true });
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
    }
  }
}

/** The run the `current` link names, if any. */
export function readCurrentRun(connector: Connector, base: string): Promise<string | undefined> {
  return connector.readlink(join(base, 'current'));
}

/** Points `current` at `runId`: a link made beside it, renamed over it (readers see the old run or the new). */
export async function pointCurrentRun(connector: Connector, base: string, runId: string): Promise<void> {
  // pid and a random part: processes on other hosts sharing the workspace may have the same pid.
  const temporary = join(base, `.current-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await connector.symlink(runId, temporary);
  await connector.rename(temporary, join(base, 'current'));
}

/** The runs in `base`, newest first (run ids sort by date); `current` and other links left out. */
export async function listRuns(connector: Connector, base: string): Promise<string[]> {
  const entries = await connector.listDirectory(base).catch(() => []);
  return entries
    .filter((entry) => entry.kind === 'directory')
    .map((entry) => entry.name)
    .sort()
    .reverse();
}

export interface RunJobIndexOptions {
  connector: Connector;
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
  readonly #connector: Connector;
  readonly #onError: (error: unknown) => void;
  #lines: string[] = [];
  readonly #prefixes = new Map<string, string>();
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;

  constructor(options: RunJobIndexOptions) {
    this.path = join(options.runPath, RUN_JOB_INDEX);
    this.#connector = options.connector;
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
      this.#writing = this.#writing
        .then(() => this.#connector.appendFile(this.path, `${lines.join('\n')}\n`))
        .catch((error: unknown) => this.#onError(error));
    });
  }

  /** Resolves once every job added so far is in the file (or its append failed). */
  async flushed(): Promise<void> {
    while (this.#scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.#writing;
  }
}

/** Where a run's job index is: its `jobs.jsonl`, or the `jobs/` folder of links of a run of an earlier version. */
export async function runJobIndexPath(connector: Connector, runPath: string): Promise<string> {
  const index = join(runPath, RUN_JOB_INDEX);
  if (await connector.exists(index)) return index;
  const legacy = join(runPath, LEGACY_RUN_JOB_LINKS);
  return (await connector.exists(legacy)) ? legacy : index;
}

/**
 * The jobs a run submitted, in the order it submitted them, each once: from its
 * `jobs.jsonl` and, for a run of an earlier version, its `jobs/` folder of links.
 * A line cut short (a process killed mid-append) or not an entry is skipped.
 */
export async function readRunJobs(connector: Connector, runPath: string): Promise<RunJobEntry[]> {
  const seen = new Set<string>();
  const entries: RunJobEntry[] = [];
  const add = (entry: RunJobEntry) => {
    const key = `${entry.taskId}/${entry.hash}`;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  const text = (await connector.readFileIfExists(join(runPath, RUN_JOB_INDEX)).catch(() => undefined)) ?? '';
  for (const line of text.split('\n')) {
    const entry = parseRunJobLine(line);
    if (entry) add(entry);
  }
  const links = join(runPath, LEGACY_RUN_JOB_LINKS);
  const names = (await connector.readdir(links).catch(() => [] as string[])).sort();
  const targets = await Promise.all(names.map((name) => connector.readlink(join(links, name))));
  for (const target of targets) {
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
