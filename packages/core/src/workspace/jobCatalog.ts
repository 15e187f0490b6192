// Jobs of a workspace, read from disk (the files are the source of truth): list them with their
// state, find them from what a user types, and clean finished ones.
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { LocalConnector } from '../connector/localConnector.ts';
import { UserInputError } from '../errors.ts';
import { LEGACY_RUN_JOB_LINKS, RUN_JOB_INDEX, parseRunJobLine } from '../experiment/runFolder.ts';
import { jobFile } from '../job/jobFiles.ts';
import { launcherMayKnowBetter, readMarkers, readProcessFile, type JobProvenance, type MarkerState } from '../scheduler/jobMarkers.ts';
import type { FailureInfo, LaunchHandle } from '../types.ts';
import { inProcessJobState, isInProcessHandle } from './inProcessJobs.ts';

const localConnector = new LocalConnector();

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

export interface ListJobsOptions {
  workspacePath: string;
  state?: CatalogJobState;
  taskId?: string;
  /** Only jobs submitted by a run of this experiment. */
  experiment?: string;
  /** Refines the state of jobs whose process this host cannot check (cluster, other host). */
  status?: HandleStatusFunction;
}

export async function listJobs(options: ListJobsOptions): Promise<JobRecord[]> {
  const workspacePath = resolve(options.workspacePath);
  const links = await readExperimentLinks(workspacePath);
  let locations = await scanJobDirectories(workspacePath);
  if (options.taskId !== undefined) locations = locations.filter((job) => job.taskId === options.taskId);
  if (options.experiment !== undefined) {
    const name = options.experiment;
    locations = locations.filter((job) => links.get(linkKey(job.directory))?.some((link) => link.experiment === name));
  }
  const records = await readJobRecords({ locations, links, status: options.status });
  return options.state === undefined ? records : records.filter((job) => job.state === options.state);
}

export interface FindJobsOptions {
  workspacePath: string;
  /** Each a job directory, `task-id/hash-prefix`, or a hash prefix of at least 6 characters. */
  refs: readonly string[];
  status?: HandleStatusFunction;
}

/** One record per distinct job the refs name, in the order given. */
export async function findJobs(options: FindJobsOptions): Promise<JobRecord[]> {
  const workspacePath = resolve(options.workspacePath);
  const links = await readExperimentLinks(workspacePath);
  let all: JobLocation[] | undefined;
  const found = new Map<string, JobLocation>();
  for (const ref of options.refs) {
    const asDirectory = await jobLocationFromDirectory(ref);
    if (asDirectory) {
      found.set(asDirectory.directory, asDirectory);
      continue;
    }
    all ??= await scanJobDirectories(workspacePath);
    const match = matchRef({ ref, jobs: all, workspacePath });
    found.set(match.directory, match);
  }
  return readJobRecords({ locations: [...found.values()], links, status: options.status });
}

export interface CleanJobsOptions {
  workspacePath: string;
  /** States whose jobs are removed; default: done and failed. */
  states?: readonly ('done' | 'failed')[];
  /** Remove for real; otherwise only report what would be removed. */
  perform: boolean;
}

/** Removes finished jobs and the runs' records of them (index lines, links); returns the directories (to be) removed. */
export async function cleanJobs(options: CleanJobsOptions): Promise<string[]> {
  const workspacePath = resolve(options.workspacePath);
  const states = new Set<CatalogJobState>(options.states ?? ['done', 'failed']);
  const links = await readExperimentLinks(workspacePath);
  const jobs = await readJobRecords({ locations: await scanJobDirectories(workspacePath), links });
  const removable: JobRecord[] = [];
  for (const job of jobs) {
    if (!states.has(job.state)) continue;
    // A failed job being retried keeps its old marker until it restarts: never remove a live one.
    if (job.handle && (await isLocalProcessAlive(job.handle))) continue;
    removable.push(job);
  }
  if (options.perform) {
    const indexes = new Map<string, Set<string>>();
    for (const job of removable) {
      const key = linkKey(job.directory);
      for (const link of links.get(key) ?? []) {
        if (link.kind === 'link') await rm(link.path, { force: true });
        else indexes.set(link.path, (indexes.get(link.path) ?? new Set()).add(key));
      }
      await rm(job.directory, { recursive: true, force: true });
      // Drop the task's directory once its last job is gone.
      await rmdir(dirname(job.directory)).catch(() => undefined);
    }
    for (const [path, keys] of indexes) await dropIndexLines(path, keys);
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
async function scanJobDirectories(workspacePath: string): Promise<JobLocation[]> {
  const jobsRoot = join(workspacePath, 'jobs');
  const jobs: JobLocation[] = [];
  for (const taskId of (await listDirectories(jobsRoot)).sort()) {
    // Only hex names: lock directories and stray files next to jobs are not jobs.
    const hashes = (await listDirectories(join(jobsRoot, taskId))).filter((name) => /^[0-9a-f]+$/.test(name));
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
async function readExperimentLinks(workspacePath: string): Promise<Map<string, ExperimentLink[]>> {
  const root = join(workspacePath, 'experiments');
  const links = new Map<string, ExperimentLink[]>();
  const add = (key: string, link: ExperimentLink) => {
    const known = links.get(key);
    if (known) known.push(link);
    else links.set(key, [link]);
  };
  for (const experiment of await listDirectories(root)) {
    // `current` is itself a link to a run: skip it so that each run is read once.
    for (const run of await listDirectories(join(root, experiment))) {
      const index = join(root, experiment, run, RUN_JOB_INDEX);
      const text = await readFile(index, 'utf8').catch(() => '');
      const keys = new Set<string>();
      for (const line of text.split('\n')) {
        const key = indexLineKey(line);
        if (key !== undefined) keys.add(key);
      }
      // One record for all the jobs of a run's index (a workspace of many runs of 10,000 jobs).
      const record: ExperimentLink = { experiment, kind: 'index', path: index };
      for (const key of keys) add(key, record);
      const jobsDir = join(root, experiment, run, LEGACY_RUN_JOB_LINKS);
      for (const name of await readdir(jobsDir).catch(() => [] as string[])) {
        const path = join(jobsDir, name);
        const target = await readlink(path).catch(() => undefined);
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

/** Rewrites a run's `jobs.jsonl` without the lines of removed jobs (beside it, then renamed over it). */
async function dropIndexLines(path: string, keys: ReadonlySet<string>): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const kept = text.split('\n').filter((line) => {
    const key = indexLineKey(line);
    return key !== undefined && !keys.has(key);
  });
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, kept.length > 0 ? `${kept.join('\n')}\n` : '');
  await rename(temporary, path);
}

async function readJobRecords(options: {
  locations: readonly JobLocation[];
  links: Map<string, ExperimentLink[]>;
  status?: HandleStatusFunction;
}): Promise<JobRecord[]> {
  const records = await Promise.all(options.locations.map((location) => readJobRecord({ location, links: options.links })));
  // Ask the launchers, in one call, about the jobs this host cannot check itself, and about
  // cluster jobs whose marker only says they were signalled (a time limit, or a requeue).
  const unchecked = records.filter(
    (record) =>
      record.state === 'queued' ||
      (record.state === 'running' && !isCheckableHere(record.handle) && !isInProcessHandle(record.handle)) ||
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
      const marker = await readMarkers(localConnector, record.directory);
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

async function readJobRecord(options: { location: JobLocation; links: Map<string, ExperimentLink[]> }): Promise<JobRecord> {
  const { taskId, hash, directory } = options.location;
  const experiments = [...new Set((options.links.get(linkKey(directory)) ?? []).map((link) => link.experiment))].sort();
  const handle = await readHandle(directory);
  const record: JobRecord = { taskId, hash, directory, state: 'incomplete', experiments };
  if (handle) record.handle = handle;
  const marker = await readMarkers(localConnector, directory);
  if (marker.state !== 'none') return applyMarker(record, marker);
  if (!handle) return record;
  // A job in a thread of an experiment process: its handle says whether that process still runs.
  if (isInProcessHandle(handle)) return Object.assign(record, await inProcessJobState(localConnector, handle));
  if (isCheckableHere(handle)) {
    record.state = (await isLocalProcessAlive(handle)) ? 'running' : 'incomplete';
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

function readHandle(directory: string): Promise<LaunchHandle | undefined> {
  return readProcessFile(localConnector, directory);
}

function isCheckableHere(handle: LaunchHandle | undefined): handle is LaunchHandle & { pid: number } {
  return handle?.kind === 'local' && handle.host === hostname() && typeof handle.pid === 'number';
}

/** True when the handle's process runs on this host and still belongs to the job (not a reused pid). */
async function isLocalProcessAlive(handle: LaunchHandle): Promise<boolean> {
  if (!isCheckableHere(handle)) return false;
  return localConnector.isProcessAlive(handle.pid, handle.directory);
}

/** A ref naming an existing job directory (`<...>/jobs/<task-id>/<hash>`), or undefined. */
async function jobLocationFromDirectory(ref: string): Promise<JobLocation | undefined> {
  const directory = resolve(ref);
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) return undefined;
  const looksLikeJob = existsSync(jobFile(directory, 'params')) || basename(dirname(dirname(directory))) === 'jobs';
  if (!looksLikeJob) return undefined;
  return { taskId: basename(dirname(directory)), hash: basename(directory), directory };
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

async function listDirectories(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  // Symbolic links (like an experiment's `current`) are not followed.
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}
