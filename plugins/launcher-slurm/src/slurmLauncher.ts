// Submits jobs to SLURM with sbatch (arrays for batches with equal options),
// follows them with one sacct query per poll (squeue when accounting is off or
// lags), and cancels them with one scancel. Every command goes through the
// connector, so the same launcher works over SSH.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { ClusterJobMarkers, clusterHandle, missingJobStatus, parseSize, submitInGroups, type ClusterCommandResult, type ClusterCommands } from '@baton/core';
import type {
  Connector,
  FailureInfo,
  HostDescription,
  LaunchHandle,
  LaunchRequest,
  LaunchStatus,
  Launcher,
  LoggerLike,
  SubmitOutcome,
} from '@baton/core';
import { arrayListFile, arrayScript } from './jobArray.ts';
import { sbatchOptions } from './sbatchOptions.ts';
import { slurmCommands, type SlurmCommandCounts, type SlurmCommandName } from './slurmCommands.ts';
import { SACCT_FORMAT, SQUEUE_FORMAT, parseSacct, parseSqueue, queryId } from './slurmRecords.ts';
import { parseSlurmMemory, parseSlurmTime, type SlurmLauncherSettings } from './slurmSettings.ts';
import { FATAL_PENDING_REASONS, slurmStatus, type SlurmRecord } from './slurmStates.ts';

export interface SlurmLauncherOptions {
  /** Name the launcher is declared under in the settings. */
  name: string;
  connector: Connector;
  logger: LoggerLike;
  /** Workspace path (as the connector sees it): job array files go under it. */
  workspacePath: string;
  settings: SlurmLauncherSettings;
  /** How long after submission a job missing from sacct and squeue still counts as queued (accounting lags). */
  missingGraceMs?: number;
  /** How long a job may stay PREEMPTED (waiting to be requeued) before it fails as preempted. */
  preemptedGraceMs?: number;
  /** First delay between sbatch retries (doubles per attempt). */
  retryBaseMs?: number;
}

const DEFAULT_MISSING_GRACE_MS = 60_000;
const DEFAULT_PREEMPTED_GRACE_MS = 300_000;
/** The scheduler gathers ready jobs this long before a submission, so that they share job arrays. */
const SUBMIT_DELAY_MS = 200;
/** sacct's start time goes back this far before the oldest submission: covers midnight and a cluster in another time zone. */
const SACCT_START_MARGIN_MS = 26 * 3600_000;
/** With accounting off, try sacct again this often (it may have been turned on). */
const ACCOUNTING_RECHECK_MS = 300_000;
/** Used when `scontrol show config` cannot be read (SLURM's default is 1001). */
const FALLBACK_MAX_ARRAY_SIZE = 1000;
const ACCOUNTING_DISABLED = /accounting storage is disabled/i;
const INVALID_JOB_ID = /Invalid job id specified/i;

export class SlurmLauncher implements Launcher {
  readonly kind = 'slurm';
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  readonly pollIntervalMs: number;
  readonly maxConcurrent?: number;
  readonly submitDelayMs = SUBMIT_DELAY_MS;
  readonly settings: SlurmLauncherSettings;
  readonly #logger: LoggerLike;
  readonly #commands: ClusterCommands<SlurmCommandName>;
  readonly #arraysDirectory: string;
  readonly #missingGraceMs: number;
  readonly #preemptedGraceMs: number;
  #maxArraySize: number | undefined;
  /** Until when sacct is not tried (accounting is disabled). */
  #skipSacctUntil = 0;
  /** When this launcher first saw each preempted job. */
  readonly #preemptedSince = new Map<string, number>();
  readonly #markers: ClusterJobMarkers;
  /** Ids this launcher asked the scheduler to cancel: one that vanishes without a marker was cancelled, not lost. */
  readonly #cancelledIds = new Set<string>();

  constructor(options: SlurmLauncherOptions) {
    const { settings } = options;
    this.name = options.name;
    this.connector = options.connector;
    this.#logger = options.logger;
    this.settings = settings;
    this.pollIntervalMs = settings.pollInterval;
    if (settings.maxConcurrent !== undefined) this.maxConcurrent = settings.maxConcurrent;
    this.#commands = slurmCommands({
      connector: options.connector,
      logger: options.logger,
      timeoutMs: settings.commandTimeoutMs,
      ...(options.retryBaseMs === undefined ? {} : { retryBaseMs: options.retryBaseMs }),
    });
    this.#arraysDirectory = posix.join(options.workspacePath, 'launchers', 'slurm', 'arrays');
    this.#missingGraceMs = options.missingGraceMs ?? DEFAULT_MISSING_GRACE_MS;
    this.#preemptedGraceMs = options.preemptedGraceMs ?? DEFAULT_PREEMPTED_GRACE_MS;
    this.#maxArraySize = settings.maxArraySize;
    this.host = hostDescription(settings);
    this.#markers = new ClusterJobMarkers({ connector: options.connector, logger: options.logger, scheduler: 'SLURM' });
  }

  /** How many sbatch, sacct, squeue, scancel and scontrol calls this launcher made. */
  get commandCounts(): SlurmCommandCounts {
    return this.#commands.counts;
  }

  // -------------------------------------------------------------------------
  // Submission

  /** Jobs with equal sbatch options go together, as job arrays (the scheduler gathers them: submitDelayMs). */
  async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    if (requests.length === 0) return [];
    const unusable = unusablePath(this.connector.resolve(this.#arraysDirectory));
    if (unusable) return requests.map(() => ({ failure: { code: null, reason: 'rejected', message: unusable } }));
    try {
      return await this.#submitNow(requests);
    } catch (error) {
      const message = `could not submit to SLURM: ${(error as Error).message}`;
      return requests.map(() => ({ failure: { code: null, reason: 'rejected', message } }));
    }
  }

  #submitNow(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    // Jobs with the same options go together (as a job array when there are several).
    return submitInGroups({
      requests,
      optionsOf: (request) => {
        const unusable = unusablePath(request.directory);
        if (unusable) throw new Error(unusable);
        return sbatchOptions({ settings: this.settings, requirements: request.requirements, resumable: request.resumable });
      },
      arraySize: () => this.#arrayChunkSize(),
      submitOne: (request, options) => this.#submitSingle(request, options),
      submitArray: (batch, options) => this.#submitArray(batch, options),
    });
  }

  async #submitSingle(request: LaunchRequest, options: readonly string[]): Promise<SubmitOutcome> {
    const directory = request.directory;
    const submitted = await this.#sbatch(request.name, [
      `--job-name=${request.name}`,
      `--chdir=${directory}`,
      `--output=${posix.join(filenamePattern(directory), 'slurm-%j.out')}`,
      `--error=${posix.join(filenamePattern(directory), 'slurm-%j.err')}`,
      '--open-mode=append',
      ...options,
      request.scriptPath,
    ]);
    if ('failure' in submitted) return submitted;
    this.#logger.debug(`submitted ${request.name} as SLURM job ${submitted.jobId}`);
    return { handle: clusterHandle(this, directory, submitted.jobId), state: 'queued' };
  }

  async #submitArray(requests: readonly LaunchRequest[], options: readonly string[]): Promise<SubmitOutcome[]> {
    const name = `${commonTaskId(requests) ?? 'baton'}-array-${randomBytes(4).toString('hex')}`;
    const directory = posix.join(this.#arraysDirectory, name);
    const listPath = posix.join(directory, 'jobs.list');
    const scriptPath = posix.join(directory, 'array.sh');
    try {
      await this.connector.mkdir(directory);
      await this.connector.writeFile(listPath, arrayListFile(requests.map((request) => request.scriptPath)));
      await this.connector.writeFile(scriptPath, arrayScript({ listPath: this.connector.resolve(listPath) }), { mode: 0o755 });
    } catch (error) {
      const message = `could not write the job array files in ${directory}: ${(error as Error).message}`;
      return requests.map(() => ({ failure: { code: null, reason: 'rejected', message } }));
    }
    const limit = this.settings.arrayLimit === undefined ? '' : `%${this.settings.arrayLimit}`;
    const resolved = this.connector.resolve(directory);
    const submitted = await this.#sbatch(name, [
      `--job-name=${name}`,
      `--array=0-${requests.length - 1}${limit}`,
      `--chdir=${resolved}`,
      `--output=${posix.join(filenamePattern(resolved), 'slurm-%A_%a.out')}`,
      `--error=${posix.join(filenamePattern(resolved), 'slurm-%A_%a.err')}`,
      '--open-mode=append',
      ...options,
      this.connector.resolve(scriptPath),
    ]);
    if ('failure' in submitted) return requests.map(() => submitted);
    this.#logger.debug(`submitted ${requests.length} jobs as SLURM array ${submitted.jobId} (${name})`);
    return requests.map((request, index) => ({ handle: clusterHandle(this, request.directory, `${submitted.jobId}_${index}`), state: 'queued' }));
  }

  /** Runs sbatch with retries; the job id, or sbatch's own message as a rejection. */
  async #sbatch(jobName: string, args: readonly string[]): Promise<{ jobId: string } | { failure: FailureInfo }> {
    const result = await this.#commands.runWithRetries(['sbatch', '--parsable', ...args], {
      retries: this.settings.submitRetries,
      // A timed-out sbatch, or one whose answer a dropped connection lost, may have gone
      // through: adopt that job rather than submit it twice.
      beforeRetry: async (failed) => (failed.mayHaveRun ? this.#findSubmitted(jobName) : undefined),
    });
    const jobId = result.ok ? /^(\d+)/.exec(result.stdout.trim())?.[1] : undefined;
    if (jobId) return { jobId };
    const message = result.ok
      ? `sbatch printed no job id: ${JSON.stringify(result.stdout.trim())}`
      : result.transient
        ? `${result.message} (gave up after ${result.attempts} attempts)`
        : result.message;
    return { failure: { code: null, reason: 'rejected', message } };
  }

  async #findSubmitted(jobName: string): Promise<ClusterCommandResult | undefined> {
    const found = await this.#commands.run(['squeue', '--me', '-h', `--name=${jobName}`, '-o', '%i']);
    const id = found.ok ? /^(\d+)/.exec(found.stdout.trim())?.[1] : undefined;
    if (!id) return undefined;
    this.#logger.debug(`sbatch timed out but job ${jobName} reached SLURM as ${id}`);
    return { ...found, stdout: `${id}\n` };
  }

  async #arrayChunkSize(): Promise<number> {
    if (this.#maxArraySize === undefined) {
      const config = await this.#commands.run(['scontrol', 'show', 'config']);
      const value = config.ok ? /^MaxArraySize\s*=\s*(\d+)/m.exec(config.stdout)?.[1] : undefined;
      if (value === undefined) {
        this.#logger.warn(`could not read MaxArraySize from \`scontrol show config\` (${config.message || 'not found'}); using ${FALLBACK_MAX_ARRAY_SIZE}`);
        return FALLBACK_MAX_ARRAY_SIZE;
      }
      this.#maxArraySize = Number(value);
    }
    // Indexes run from 0 to MaxArraySize - 1.
    return Math.max(1, this.#maxArraySize);
  }

  // -------------------------------------------------------------------------
  // Status: one query for all handles.

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    const tracked = handles.filter((handle) => handle.clusterId !== undefined);
    const { records, squeueAlone } = tracked.length > 0 ? await this.#query(tracked) : { records: new Map<string, SlurmRecord>(), squeueAlone: false };
    const now = Date.now();
    const toCancel: { handle: LaunchHandle; record: SlurmRecord }[] = [];
    const statuses = await Promise.all(
      handles.map(async (handle): Promise<LaunchStatus> => {
        if (handle.clusterId === undefined) return { state: 'unknown', detail: 'the handle has no SLURM job id' };
        const record = records.get(handle.clusterId);
        if (!record) {
          this.#markers.forget(handle.clusterId);
          return this.#missing(handle, now, squeueAlone);
        }
        let status = slurmStatus(record);
        if (record.state === 'PENDING' && FATAL_PENDING_REASONS.has(reasonCode(record.reason))) {
          toCancel.push({ handle, record });
          return status;
        }
        if (record.state === 'PREEMPTED') status = this.#preempted(handle.clusterId, status, now);
        else this.#preemptedSince.delete(handle.clusterId);
        // job.sh's markers are written before SLURM notices the end: they win.
        if (status.state === 'running' && (await this.#markers.hasFinalMarker(handle.directory))) return { state: 'finished' };
        if (status.state === 'queued') await this.#markers.dropRequeuedMarker(handle, { requeueHinted: record.state.startsWith('REQUEUE') || record.state === 'PREEMPTED' });
        else if (status.state === 'running') this.#markers.seenStarted(handle.clusterId);
        else this.#markers.forget(handle.clusterId);
        if (status.state === 'finished' && status.failure) return { ...status, failure: await this.#markers.recordVerdict(handle, status.failure) };
        return status;
      }),
    );
    if (toCancel.length > 0) {
      const failures = await this.#rejectUnrunnable(toCancel);
      handles.forEach((handle, index) => {
        const failure = failures.get(handle);
        if (failure) statuses[index] = { state: 'finished', failure };
      });
    }
    return statuses;
  }

  /** sacct for all jobs (squeue when accounting is off or failed); squeue for those sacct does not list yet or lists as pending. */
  async #query(handles: readonly LaunchHandle[]): Promise<{ records: Map<string, SlurmRecord>; squeueAlone: boolean }> {
    let records = new Map<string, SlurmRecord>();
    let sacctProblem: string | undefined;
    if (Date.now() >= this.#skipSacctUntil) {
      const result = await this.#commands.run([
        'sacct',
        '-X',
        '-P',
        '-n',
        `--format=${SACCT_FORMAT}`,
        '-j',
        idList(handles),
        '-S',
        slurmTimestamp(new Date(earliestSubmission(handles) - SACCT_START_MARGIN_MS)),
      ]);
      if (result.ok) records = parseSacct(result.stdout);
      else {
        sacctProblem = result.message;
        if (ACCOUNTING_DISABLED.test(result.stderr) || ACCOUNTING_DISABLED.test(result.stdout)) {
          this.#logger.debug('SLURM accounting is disabled; following jobs with squeue');
          this.#skipSacctUntil = Date.now() + ACCOUNTING_RECHECK_MS;
        } else {
          this.#logger.debug(`sacct failed (${result.message}); trying squeue`);
        }
      }
    } else {
      sacctProblem = 'accounting is disabled';
    }
    // squeue answers for the jobs sacct does not list yet, and for pending ones:
    // the pending reason in accounting is the one of the last state change, often stale.
    const live = handles.filter((handle) => {
      const record = records.get(handle.clusterId!);
      return record === undefined || record.state === 'PENDING';
    });
    if (live.length === 0) return { records, squeueAlone: false };
    const queue = await this.#commands.run(['squeue', '--states=all', '-h', '-r', '-o', SQUEUE_FORMAT, '-j', idList(live)]);
    // squeue fails when asked about one id it no longer knows; with several it lists the known ones.
    if (queue.ok || INVALID_JOB_ID.test(queue.stderr)) {
      for (const [id, record] of parseSqueue(queue.stdout)) {
        const known = records.get(id);
        if (!known || known.state === 'PENDING') records.set(id, { ...record, exitCode: known?.exitCode });
      }
      return { records, squeueAlone: sacctProblem !== undefined };
    }
    if (sacctProblem !== undefined) {
      throw new Error(`could not query SLURM about ${handles.length} job(s): sacct: ${sacctProblem}; squeue: ${queue.message}`);
    }
    return { records, squeueAlone: false };
  }

  /**
   * A job neither sacct nor squeue lists. The controller lists a job from the moment sbatch
   * returns until MinJobAge after its end, so when squeue alone answered (accounting off), the
   * job has ended and been forgotten. When sacct answered, it may just have been submitted
   * (accounting lags): it counts as queued for a grace period.
   */
  #missing(handle: LaunchHandle, now: number, squeueAlone: boolean): Promise<LaunchStatus> {
    const graceMs = squeueAlone ? 0 : this.#missingGraceMs;
    const cancelled = this.#cancelledIds.has(handle.clusterId!);
    return missingJobStatus({ connector: this.connector, handle, scheduler: 'SLURM', graceMs, notListed: 'is listed neither by sacct nor by squeue', cancelled, now });
  }

  #preempted(clusterId: string, status: LaunchStatus, now: number): LaunchStatus {
    const since = this.#preemptedSince.get(clusterId) ?? now;
    this.#preemptedSince.set(clusterId, since);
    if (now - since < this.#preemptedGraceMs) return status;
    this.#preemptedSince.delete(clusterId);
    return {
      state: 'finished',
      failure: {
        code: null,
        reason: 'preempted',
        message: `SLURM job ${clusterId} was preempted and not requeued within ${Math.round(this.#preemptedGraceMs / 1000)} s`,
      },
    };
  }

  /** Cancels jobs whose pending reason can never clear and says why they fail. */
  async #rejectUnrunnable(jobs: readonly { handle: LaunchHandle; record: SlurmRecord }[]): Promise<Map<LaunchHandle, FailureInfo>> {
    const cancelled = await this.#commands.runWithRetries(['scancel', ...jobs.map(({ handle }) => handle.clusterId!)], { retries: 2 });
    if (!cancelled.ok) this.#logger.warn(`could not cancel SLURM jobs that can never start: ${cancelled.message}`);
    const limits = new Map<string, string | undefined>();
    for (const { record } of jobs) {
      if (record.partition && !limits.has(record.partition)) limits.set(record.partition, await this.#partitionMaxTime(record.partition));
    }
    const failures = new Map<LaunchHandle, FailureInfo>();
    for (const { handle, record } of jobs) {
      failures.set(handle, {
        code: null,
        reason: 'rejected',
        message: unrunnableMessage({ record, partitionMaxTime: record.partition ? limits.get(record.partition) : undefined }),
      });
    }
    return failures;
  }

  async #partitionMaxTime(partition: string): Promise<string | undefined> {
    const shown = await this.#commands.run(['scontrol', '-o', 'show', 'partition', partition]);
    return shown.ok ? /\bMaxTime=(\S+)/.exec(shown.stdout)?.[1] : undefined;
  }

  // -------------------------------------------------------------------------
  // Cancel: one scancel for all.

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    const ids = [...new Set(handles.map((handle) => handle.clusterId).filter((id): id is string => id !== undefined))];
    if (ids.length === 0) return;
    for (const id of ids) this.#cancelledIds.add(id);
    // job.sh traps the SIGTERM scancel sends and writes its `failed` marker (reason: cancelled).
    const result = await this.#commands.runWithRetries(['scancel', ...ids], { retries: this.settings.submitRetries });
    if (!result.ok) this.#logger.warn(`scancel of ${ids.length} SLURM job(s) reported: ${result.message}`);
  }
}

function hostDescription(settings: SlurmLauncherSettings): HostDescription {
  const host: HostDescription = {};
  if (settings.cpusPerTask !== undefined) host.cores = settings.cpusPerTask;
  if (settings.mem !== undefined) host.memory = parseSlurmMemory(settings.mem);
  if (settings.gpusPerNode !== undefined) host.gpus = settings.gpusPerNode;
  if (settings.gpuMemory !== undefined) host.gpuMemory = parseSize(settings.gpuMemory, 'gpuMemory');
  if (settings.time !== undefined) host.maxDuration = parseSlurmTime(settings.time);
  if (settings.priority !== undefined) host.priority = settings.priority;
  return host;
}

/**
 * A path as sbatch's --output/--error read it: SLURM expands `%j`, `%x`... there, so a `%` of the
 * path itself is written `%%`. (--chdir is taken as it is.)
 */
export function filenamePattern(path: string): string {
  return path.replace(/%/g, '%%');
}

/** Why SLURM cannot write job output under this path, if it cannot: a backslash turns its filename patterns off and is dropped. */
export function unusablePath(path: string): string | undefined {
  if (!path.includes('\\')) return undefined;
  return (
    `the path ${JSON.stringify(path)} contains a backslash, which SLURM drops from --output/--error paths (and every job would fail ` +
    'without running); move the workspace to a path without "\\"'
  );
}

function idList(handles: readonly LaunchHandle[]): string {
  return [...new Set(handles.map((handle) => queryId(handle.clusterId!)))].join(',');
}

function earliestSubmission(handles: readonly LaunchHandle[]): number {
  const times = handles.map((handle) => Date.parse(handle.submittedAt)).filter((time) => Number.isFinite(time));
  return times.length > 0 ? Math.min(...times) : Date.now();
}

/** `YYYY-MM-DDTHH:MM:SS` in local time, as sacct's -S reads it. */
export function slurmTimestamp(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** `ReqNodeNotAvail, UnavailableNodes:vm` → `ReqNodeNotAvail`. */
function reasonCode(reason: string | undefined): string {
  return reason?.split(/[,\s(]/)[0] ?? '';
}

function commonTaskId(requests: readonly LaunchRequest[]): string | undefined {
  const first = requests[0]?.taskId;
  return first !== undefined && requests.every((request) => request.taskId === first) ? first.replace(/[^\w.-]/g, '_') : undefined;
}

function unrunnableMessage(options: { record: SlurmRecord; partitionMaxTime: string | undefined }): string {
  const { record, partitionMaxTime } = options;
  const reason = reasonCode(record.reason);
  const asked = record.timeLimit ? ` asks for ${record.timeLimit}` : '';
  const where = record.partition ? ` on partition ${record.partition}` : '';
  if (reason === 'PartitionTimeLimit') {
    const limit = partitionMaxTime ? `, longer than the partition's time limit (MaxTime=${partitionMaxTime})` : ", longer than the partition's time limit";
    return (
      `SLURM job ${record.jobId}${asked}${where}${limit}, so it would wait forever (pending reason PartitionTimeLimit); Baton cancelled it. ` +
      "Lower `time` in the launcher's settings or the task's duration requirement, or choose a partition that allows it."
    );
  }
  return (
    `SLURM job ${record.jobId}${asked}${where}, more than its QOS or account allows, so it would wait forever (pending reason ${reason}); ` +
    "Baton cancelled it. Lower `time` in the launcher's settings or the task's duration requirement, or use another qos/account."
  );
}
