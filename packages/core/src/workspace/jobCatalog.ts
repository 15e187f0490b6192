// Jobs of a workspace, read from its files (the source of truth): list them with their
// state, find them from what a user types, and clean finished ones. Files are reached
// only through a connector (a remote workspace's, over SSH), or this machine's files.
import { basename, dirname, join, relative, resolve } from 'node:path';
import { UserInputError, closeCandidate } from '../errors.ts';
import { LEGACY_RUN_JOB_LINKS, RUN_JOB_INDEX, parseRunJobLine } from '../experiment/runFolder.ts';
import { jobFile } from '../job/jobFiles.ts';
import { launcherMayKnowBetter, readMarkers, readProcessFile, type JobProvenance, type MarkerState } from '../scheduler/jobMarkers.ts';
import type { FailureInfo, LaunchHandle } from '../types.ts';
import { inProcessJobState, isInProcessHandle } from './inProcessJobs.ts';
import { localFiles, type WorkspaceFiles } from './localFiles.ts';

export type { WorkspaceFiles } from './localFiles.ts';
// Killing a job from outside its process (`baton jobs kill`, the monitor): light too.
export { killJob } from './killJob.ts';
export type { KillJobOptions, KillJobResult } from './killJob.ts';

/** A job's state as seen from its files; `incomplete`: no marker and no live process. */
export type CatalogJobState = 'done' | 'failed' | 'running' | 'queued' | 'incomplete';

export interface JobRecord {
  taskId: string;
  hash: string;
  directory: string;
  state: CatalogJobState;
  /** Content of the `failed` marker. */
  failure?: FailureInfo;
  /** When, where and how it ran (start, end, duration, host, exit code), from its marker; absent in markers of earlier versions. */
  provenance?: JobProvenance;
  /** Content of `process.json`: who runs (or ran) the job. */
  handle?: LaunchHandle;
  /** Names of the experiments whose runs submitted this job (their `jobs.jsonl`, or links of earlier versions). */
  experiments: string[];
  /** What its launcher says beyond the state (e.g. SLURM's pending reason). */
  detail?: string;
}

/** What a launcher says of a job the catalog cannot check itself. */
export interface HandleStatus {
  state: 'queued' | 'running' | 'finished';
  detail?: string;
}

/** Asks launchers about handles the catalog cannot check itself; keyed by job directory. */
export type HandleStatusFunction = (handles: LaunchHandle[]) => Promise<Map<string, HandleStatus>>;

/** How the catalog reaches a workspace's files. */
export interface CatalogFilesOptions {
  /** The workspace's connector (e.g. a remote workspace's); default: this machine's files. */
  connector?: WorkspaceFiles;
}

export interface ListJobsOptions extends CatalogFilesOptions {
  workspacePath: string;
  state?: CatalogJobState;
  taskId?: string;
  /** Only jobs submitted by a run of this experiment. */
  experiment?: string;
  /** Refines the state of jobs whose process this host cannot check (cluster, other host). */
  status?: HandleStatusFunction;
}

export async function listJobs(options: ListJobsOptions): Promise<JobRecord[]> {
  const files = options.connector ?? localFiles;
  const workspacePath = files.resolve(options.workspacePath);
  const links = await readExperimentLinks(files, workspacePath);
  let locations = await scanJobDirectories(files, workspacePath);
  if (options.taskId !== undefined) locations = locations.filter((job) => job.taskId === options.taskId);
  if (options.experiment !== undefined) {
    const name = options.experiment;
    locations = locations.filter((job) => links.get(linkKey(job.directory))?.some((link) => link.experiment === name));
  }
  const records = await readJobRecords({ files, locations, links, status: options.status });
  return options.state === undefined ? records : records.filter((job) => job.state === options.state);
}

/**
 * For a list that came out empty: a sentence for each filter that names an experiment
 * with no run in the workspace, or a task with no job there (a typo, or the wrong
 * workspace), with the name it may have meant and those there are. Empty when every
 * filter names something the workspace has.
 */
export async function unmatchedFilters(options: CatalogFilesOptions & { workspacePath: string; experiment?: string; taskId?: string }): Promise<string[]> {
  const files = options.connector ?? localFiles;
  const workspacePath = files.resolve(options.workspacePath);
  const notes: string[] = [];
  const check = async (filter: string | undefined, folder: string, sentence: { none: string; some: string }) => {
    if (filter === undefined) return;
    const names = (await listDirectories(files, join(workspacePath, folder))).sort();
    if (names.includes(filter)) return;
    if (names.length === 0) return void notes.push(`${sentence.none}.`);
    const meant = closeCandidate(filter, names);
    notes.push(`${sentence.none}${meant === undefined ? '.' : `; did you mean "${meant}"?`} ${sentence.some}: ${names.join(', ')}.`);
  };
  await check(options.experiment, 'experiments', { none: `No experiment "${options.experiment}" has run in this workspace`, some: 'Experiments run here' });
  await check(options.taskId, 'jobs', { none: `No job of task "${options.taskId}" is in this workspace`, some: 'Tasks with jobs here' });
  return notes;
}

export interface FindJobsOptions extends CatalogFilesOptions {
  workspacePath: string;
  /** Each a job directory, `task-id/hash-prefix`, or a hash prefix of at least 6 characters. */
  refs: readonly string[];
  status?: HandleStatusFunction;
}

/** One record per distinct job the refs name, in the order given. */
export async function findJobs(options: FindJobsOptions): Promise<JobRecord[]> {
  const files = options.connector ?? localFiles;
  const workspacePath = files.resolve(options.workspacePath);
  const links = await readExperimentLinks(files, workspacePath);
  let all: JobLocation[] | undefined;
  const found = new Map<string, JobLocation>();
  for (const ref of options.refs) {
    const asDirectory = await jobLocationFromDirectory(files, ref);
    if (asDirectory) {
      found.set(asDirectory.directory, asDirectory);
      continue;
    }
    all ??= await scanJobDirectories(files, workspacePath);
    const match = matchRef({ ref, jobs: all, workspacePath });
    found.set(match.directory, match);
  }
  return readJobRecords({ files, locations: [...found.values()], links, status: options.status });
}

export interface CleanJobsOptions extends CatalogFilesOptions {
  workspacePath: string;
  /** States whose jobs are removed; default: done and failed. */
  states?: readonly ('done' | 'failed')[];
  /** Remove for real; otherwise only report what would be removed. */
  perform: boolean;
}

/** Removes finished jobs and the runs' records of them (index lines, links); returns the directories (to be) removed. */
export async function cleanJobs(options: CleanJobsOptions): Promise<string[]> {
  const files = options.connector ?? localFiles;
  const workspacePath = files.resolve(options.workspacePath);
  const states = new Set<CatalogJobState>(options.states ?? ['done', 'failed']);
  const links = await readExperimentLinks(files, workspacePath);
  const jobs = await readJobRecords({ files, locations: await scanJobDirectories(files, workspacePath), links });
  const removable: JobRecord[] = [];
  for (const job of jobs) {
    if (!states.has(job.state)) continue;
    // A failed job being retried keeps its old marker until it restarts: never remove a live one.
    if (job.handle && (await isProcessAliveHere(files, job.handle))) continue;
    removable.push(job);
  }
  if (options.perform) {
    const indexes = new Map<string, Set<string>>();
    for (const job of removable) {
      const key = linkKey(job.directory);
      for (const link of links.get(key) ?? []) {
        if (link.kind === 'link') await files.remove(link.path);
        else indexes.set(link.path, (indexes.get(link.path) ?? new Set()).add(key));
      }
      await files.remove(job.directory);
      // Drop the task's directory once its last job is gone.
      await files.rmdir(dirname(job.directory)).catch(() => undefined);
    }
    for (const [path, keys] of indexes) await dropIndexLines(files, path, keys);
  }
  return removable.map((job) => job.directory);
}

// ---------------------------------------------------------------------------

interface JobLocation {
  taskId: string;
  hash: string;
  directory: string;
}

/** A run's record of a job: a line of its `jobs.jsonl`, or a link of a run of an earlier version. */
interface ExperimentLink {
  experiment: string;
  kind: 'index' | 'link';
  /** Path of the run's `jobs.jsonl`, or of the link itself. */
  path: string;
}

/** `<workspace>/jobs/<task-id>/<hash>/` directories. */
async function scanJobDirectories(files: WorkspaceFiles, workspacePath: string): Promise<JobLocation[]> {
  const jobsRoot = join(workspacePath, 'jobs');
  const jobs: JobLocation[] = [];
  for (const taskId of (await listDirectories(files, jobsRoot)).sort()) {
    // Only hex names: lock directories and stray files next to jobs are not jobs.
    const hashes = (await listDirectories(files, join(jobsRoot, taskId))).filter((name) => /^[0-9a-f]+$/.test(name));
    for (const hash of hashes.sort()) {
      jobs.push({ taskId, hash, directory: join(jobsRoot, taskId, hash) });
    }
  }
  return jobs;
}

/** `task-id/hash` of a job directory: link targets may spell the workspace path differently (symlinks). */
function linkKey(directory: string): string {
  return `${basename(dirname(directory))}/${basename(directory)}`;
}

/**
 * `task-id/hash` → the runs that submitted the job: lines of
 * `<workspace>/experiments/<name>/<run-id>/jobs.jsonl`, and links in the `jobs/`
 * folder of runs written by earlier versions.
 */
async function readExperimentLinks(files: WorkspaceFiles, workspacePath: string): Promise<Map<string, ExperimentLink[]>> {
  const root = join(workspacePath, 'experiments');
  const links = new Map<string, ExperimentLink[]>();
  const add = (key: string, link: ExperimentLink) => {
    const known = links.get(key);
    if (known) known.push(link);
    else links.set(key, [link]);
  };
  for (const experiment of await listDirectories(files, root)) {
    // `current` is itself a link to a run: skip it so that each run is read once.
    for (const run of await listDirectories(files, join(root, experiment))) {
      const index = join(root, experiment, run, RUN_JOB_INDEX);
      const text = (await files.readFileIfExists(index).catch(() => undefined)) ?? '';
      const keys = new Set<string>();
      for (const line of text.split('\n')) {
        const key = indexLineKey(line);
        if (key !== undefined) keys.add(key);
      }
      // One record for all the jobs of a run's index (a workspace of many runs of 10,000 jobs).
      const record: ExperimentLink = { experiment, kind: 'index', path: index };
      for (const key of keys) add(key, record);
      const jobsDir = join(root, experiment, run, LEGACY_RUN_JOB_LINKS);
      for (const entry of await files.listDirectory(jobsDir).catch(() => [])) {
        if (entry.kind !== 'symlink') continue;
        const path = join(jobsDir, entry.name);
        const target = await files.readlink(path).catch(() => undefined);
        if (target === undefined) continue;
        add(linkKey(resolve(jobsDir, target)), { experiment, kind: 'link', path });
      }
    }
  }
  return links;
}

/** `task-id/hash` of a line of a run's `jobs.jsonl`; undefined for a line cut short. */
function indexLineKey(line: string): string | undefined {
  // Lines as experiments write them, without a character to unescape, need no JSON parser.
  const plain = PLAIN_INDEX_LINE.exec(line);
  if (plain) return `${plain[1]}/${plain[2]}`;
  const entry = parseRunJobLine(line);
  return entry && `${entry.taskId}/${entry.hash}`;
}

const PLAIN_INDEX_LINE = /^\{"taskId":"([^"\\]*)","hash":"([0-9a-f]+)"\}$/;

/** Rewrites a run's `jobs.jsonl` without the lines of removed jobs (atomically: a reader sees the old index or the new). */
async function dropIndexLines(files: WorkspaceFiles, path: string, keys: ReadonlySet<string>): Promise<void> {
  const text = await files.readFileIfExists(path).catch(() => undefined);
  if (text === undefined) return;
  const kept = text.split('\n').filter((line) => {
    const key = indexLineKey(line);
    return key !== undefined && !keys.has(key);
  });
  await files.writeFile(path, kept.length > 0 ? `${kept.join('\n')}\n` : '');
}

async function readJobRecords(options: {
  files: WorkspaceFiles;
  locations: readonly JobLocation[];
  links: Map<string, ExperimentLink[]>;
  status?: HandleStatusFunction;
}): Promise<JobRecord[]> {
  const { files } = options;
  const records = await Promise.all(options.locations.map((location) => readJobRecord({ files, location, links: options.links })));
  // Ask the launchers, in one call, about the jobs this host cannot check itself, and about
  // cluster jobs whose marker only says they were signalled (a time limit, or a requeue).
  const unchecked = records.filter(
    (record) =>
      record.state === 'queued' ||
      (record.state === 'running' && !isCheckableHere(files, record.handle) && !isInProcessHandle(record.handle)) ||
      (record.state === 'failed' &&
        record.handle?.clusterId !== undefined &&
        record.failure !== undefined &&
        launcherMayKnowBetter({ state: 'failed', failure: record.failure })),
  );
  if (options.status && unchecked.length > 0) {
    const statuses = await options.status(unchecked.map((record) => record.handle!));
    for (const record of unchecked) {
      const status = statuses.get(record.directory);
      if (status === undefined) continue;
      // Re-read markers: a job that finished meanwhile has written one, and a launcher may have
      // rewritten one with a better reason.
      const marker = await readMarkers(files, record.directory);
      // A cluster that has the job pending or running again (requeued) outranks the signal job.sh saw.
      const requeued = status.state !== 'finished' && launcherMayKnowBetter(marker);
      if (marker.state !== 'none' && !requeued) applyMarker(record, marker);
      else {
        delete record.failure;
        delete record.provenance;
        record.state = status.state === 'finished' ? 'incomplete' : status.state;
        if (status.detail) record.detail = status.detail;
      }
    }
  }
  return records;
}

async function readJobRecord(options: { files: WorkspaceFiles; location: JobLocation; links: Map<string, ExperimentLink[]> }): Promise<JobRecord> {
  const { files } = options;
  const { taskId, hash, directory } = options.location;
  const experiments = [...new Set((options.links.get(linkKey(directory)) ?? []).map((link) => link.experiment))].sort();
  const handle = await readProcessFile(files, directory);
  const record: JobRecord = { taskId, hash, directory, state: 'incomplete', experiments };
  if (handle) record.handle = handle;
  const marker = await readMarkers(files, directory);
  if (marker.state !== 'none') return applyMarker(record, marker);
  if (!handle) return record;
  // A job in a thread of an experiment process: its handle says whether that process still runs.
  if (isInProcessHandle(handle)) return Object.assign(record, await inProcessJobState(files, handle));
  if (isCheckableHere(files, handle)) {
    record.state = (await isProcessAliveHere(files, handle)) ? 'running' : 'incomplete';
  } else {
    // A local process on another host is presumed alive; a cluster job presumed queued.
    record.state = handle.kind === 'local' ? 'running' : 'queued';
  }
  return record;
}

/** The record's state, failure and provenance from the job's marker (read the way the scheduler reads it). */
function applyMarker(record: JobRecord, marker: Exclude<MarkerState, { state: 'none' }>): JobRecord {
  record.state = marker.state;
  delete record.failure;
  delete record.provenance;
  delete record.detail;
  if (marker.state === 'failed') record.failure = marker.failure;
  if (marker.provenance) record.provenance = marker.provenance;
  return record;
}

/** A local job on the host the files are on (the workspace's): its process can be checked from here. */
function isCheckableHere(files: WorkspaceFiles, handle: LaunchHandle | undefined): handle is LaunchHandle & { pid: number } {
  return handle?.kind === 'local' && handle.host === files.hostname && typeof handle.pid === 'number';
}

/** True when the handle's process runs on the workspace's host and still belongs to the job (not a reused pid). */
async function isProcessAliveHere(files: WorkspaceFiles, handle: LaunchHandle): Promise<boolean> {
  if (!isCheckableHere(files, handle)) return false;
  return files.isProcessAlive(handle.pid, handle.directory);
}

/** A ref naming an existing job directory (`<...>/jobs/<task-id>/<hash>`), or undefined. */
async function jobLocationFromDirectory(files: WorkspaceFiles, ref: string): Promise<JobLocation | undefined> {
  const directory = files.resolve(ref);
  const location = { taskId: basename(dirname(directory)), hash: basename(directory), directory };
  // A job's params.json names it one; so does a directory at `<...>/jobs/<task-id>/<hash>`.
  if (await files.exists(jobFile(directory, 'params'))) return location;
  if (basename(dirname(dirname(directory))) !== 'jobs') return undefined;
  // Listable: a directory (or a link to one), not a file.
  if (!(await files.exists(directory))) return undefined;
  const isDirectory = await files.listDirectory(directory).then(
    () => true,
    () => false,
  );
  return isDirectory ? location : undefined;
}

const MIN_HASH_PREFIX = 6;

function matchRef(options: { ref: string; jobs: readonly JobLocation[]; workspacePath: string }): JobLocation {
  const { ref, jobs, workspacePath } = options;
  const slash = ref.lastIndexOf('/');
  const taskId = slash >= 0 ? ref.slice(0, slash) : undefined;
  const prefix = (slash >= 0 ? ref.slice(slash + 1) : ref).toLowerCase();
  const listHint = `run \`baton jobs list\` to see the jobs of this workspace`;
  // After a task id any prefix will do (even none: `train/` when the task has one job).
  if (!/^[0-9a-f]*$/.test(prefix) || (taskId === undefined && prefix.length < MIN_HASH_PREFIX) || taskId === '') {
    throw new UserInputError(`"${ref}" is not a job directory, task-id/hash-prefix, or hash prefix`, {
      where: workspacePath,
      hint: `give a job directory, task-id/hash-prefix, or at least ${MIN_HASH_PREFIX} hex characters of the hash; ${listHint}`,
    });
  }
  const candidates = jobs.filter((job) => (taskId === undefined || job.taskId === taskId) && job.hash.startsWith(prefix));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new UserInputError(`No job matches "${ref}"`, { where: join(workspacePath, 'jobs'), hint: listHint });
  }
  const shown = candidates.slice(0, 10).map((job) => `  ${job.taskId}/${job.hash.slice(0, 12)}  ${relative(workspacePath, job.directory)}`);
  if (candidates.length > shown.length) shown.push(`  ... and ${candidates.length - shown.length} more`);
  throw new UserInputError(`"${ref}" matches ${candidates.length} jobs:\n${shown.join('\n')}`, {
    where: join(workspacePath, 'jobs'),
    hint: 'give more characters of the hash, or task-id/hash-prefix',
  });
}

async function listDirectories(files: WorkspaceFiles, path: string): Promise<string[]> {
  const entries = await files.listDirectory(path).catch(() => []);
  // Symbolic links (like an experiment's `current`) are not followed.
  return entries.filter((entry) => entry.kind === 'directory').map((entry) => entry.name);
}
