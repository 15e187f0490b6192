// Submits jobs to OAR with oarsub (arrays for batches with equal options), follows
// them with one `oarstat -f -J` query per poll, and cancels them with one oardel.
// Every command goes through the connector, so the same launcher works over SSH.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { ClusterJobMarkers, clusterHandle, missingJobStatus, submitInGroups, type ClusterCommandResult, type ClusterCommands } from '@baton/core';
import type { Connector, FailureInfo, JobProvenance, HostDescription, LaunchHandle, LaunchRequest, LaunchStatus, Launcher, LoggerLike, SubmitOutcome } from '@baton/core';
import { arrayParamFile, jobCommand } from './oarArray.ts';
import { oarCommands, type OarCommandCounts, type OarCommandName } from './oarCommands.ts';
import { parseJobIds, parseOarstat } from './oarRecords.ts';
import { parseOarWalltime, type OarLauncherSettings } from './oarSettings.ts';
import { oarStatus, type OarRecord } from './oarStates.ts';
import { oarsubOptions } from './oarsubOptions.ts';

export interface OarLauncherOptions {
  /** Name the launcher is declared under in the settings. */
  name: string;
  connector: Connector;
  logger: LoggerLike;
  /** Workspace path (as the connector sees it): array files go under it. */
  workspacePath: string;
  settings: OarLauncherSettings;
  /** How long after submission a job missing from oarstat's answer still counts as queued. */
  missingGraceMs?: number;
  /** First delay between oarsub retries (doubles per attempt). */
  retryBaseMs?: number;
}

const DEFAULT_MISSING_GRACE_MS = 60_000;
/** The scheduler gathers ready jobs this long before a submission, so that they share arrays. */
const SUBMIT_DELAY_MS = 200;
/** oarstat is asked about this many jobs per call at most (a command line has a length limit). */
const IDS_PER_QUERY = 2000;

export class OarLauncher implements Launcher {
  readonly kind = 'oar';
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  readonly pollIntervalMs: number;
  readonly maxConcurrent?: number;
  readonly submitDelayMs = SUBMIT_DELAY_MS;
  readonly settings: OarLauncherSettings;
  readonly #logger: LoggerLike;
  readonly #commands: ClusterCommands<OarCommandName>;
  /** Ids this launcher asked the scheduler to cancel: one that vanishes without a marker was cancelled, not lost. */
  readonly #cancelledIds = new Set<string>();
  readonly #arraysDirectory: string;
  readonly #missingGraceMs: number;
  readonly #markers: ClusterJobMarkers;

  constructor(options: OarLauncherOptions) {
    const { settings } = options;
    this.name = options.name;
    this.connector = options.connector;
    this.#logger = options.logger;
    this.settings = settings;
    this.pollIntervalMs = settings.pollInterval;
    if (settings.maxConcurrent !== undefined) this.maxConcurrent = settings.maxConcurrent;
    this.#commands = oarCommands({
      connector: options.connector,
      logger: options.logger,
      timeoutMs: settings.commandTimeoutMs,
      ...(options.retryBaseMs === undefined ? {} : { retryBaseMs: options.retryBaseMs }),
    });
    this.#arraysDirectory = posix.join(options.workspacePath, 'launchers', 'oar', 'arrays');
    this.#missingGraceMs = options.missingGraceMs ?? DEFAULT_MISSING_GRACE_MS;
    this.host = hostDescription(settings);
    this.#markers = new ClusterJobMarkers({ connector: options.connector, logger: options.logger, scheduler: 'OAR' });
  }

  /** How many oarsub, oarstat and oardel calls this launcher made. */
  get commandCounts(): OarCommandCounts {
    return this.#commands.counts;
  }

  // -------------------------------------------------------------------------
  // Submission

  /** Jobs with equal oarsub options go together, as arrays (the scheduler gathers them: submitDelayMs). */
  async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    if (requests.length === 0) return [];
    try {
      return await this.#submitNow(requests);
    } catch (error) {
      const message = `could not submit to OAR: ${(error as Error).message}`;
      return requests.map(() => ({ failure: { code: null, reason: 'rejected', message } }));
    }
  }

  #submitNow(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    // Jobs with the same options go together (as an array when there are several).
    return submitInGroups({
      requests,
      optionsOf: (request) => {
        const unusable = unusablePath(request.directory) ?? unusablePath(this.connector.resolve(this.#arraysDirectory));
        if (unusable) throw new Error(unusable);
        return oarsubOptions({ settings: this.settings, requirements: request.requirements, resumable: request.resumable });
      },
      arraySize: () => this.settings.maxArraySize,
      submitOne: (request, options) => this.#submitSingle(request, options),
      submitArray: (batch, options) => this.#submitArray(batch, options),
    });
  }

  async #submitSingle(request: LaunchRequest, options: readonly string[]): Promise<SubmitOutcome> {
    const directory = request.directory;
    const name = jobName(request.name);
    const submitted = await this.#oarsub(name, 1, [
      `--name=${name}`,
      `--directory=${directory}`,
      `--stdout=${posix.join(directory, 'oar.%jobid%.stdout')}`,
      `--stderr=${posix.join(directory, 'oar.%jobid%.stderr')}`,
      ...options,
      jobCommand(request.scriptPath),
    ]);
    if ('failure' in submitted) return submitted;
    this.#logger.debug(`submitted ${request.name} as OAR job ${submitted.jobIds[0]}`);
    return { handle: clusterHandle(this, directory, submitted.jobIds[0]!), state: 'queued' };
  }

  async #submitArray(requests: readonly LaunchRequest[], options: readonly string[]): Promise<SubmitOutcome[]> {
    const name = `${commonTaskId(requests) ?? 'baton'}-array-${randomBytes(4).toString('hex')}`;
    const directory = posix.join(this.#arraysDirectory, name);
    const paramPath = posix.join(directory, 'jobs.params');
    try {
      await this.connector.mkdir(directory);
      await this.connector.writeFile(paramPath, arrayParamFile(requests.map((request) => request.scriptPath)));
    } catch (error) {
      const message = `could not write the OAR array files in ${directory}: ${(error as Error).message}`;
      return requests.map(() => ({ failure: { code: null, reason: 'rejected', message } }));
    }
    const resolved = this.connector.resolve(directory);
    const submitted = await this.#oarsub(name, requests.length, [
      `--name=${name}`,
      `--directory=${resolved}`,
      `--stdout=${posix.join(resolved, 'oar.%jobid%.stdout')}`,
      `--stderr=${posix.join(resolved, 'oar.%jobid%.stderr')}`,
      `--array-param-file=${this.connector.resolve(paramPath)}`,
      ...options,
      jobCommand(),
    ]);
    if ('failure' in submitted) return requests.map(() => submitted);
    this.#logger.debug(`submitted ${requests.length} jobs as OAR array ${submitted.jobIds[0]} (${name})`);
    // oarsub prints the tasks' ids in the order of the parameter lines.
    return requests.map((request, index) => ({ handle: clusterHandle(this, request.directory, submitted.jobIds[index]!), state: 'queued' }));
  }

  /** Runs oarsub with retries; `count` job ids, or oarsub's own message as a rejection. */
  async #oarsub(name: string, count: number, args: readonly string[]): Promise<{ jobIds: string[] } | { failure: FailureInfo }> {
    const startedAt = Math.floor(Date.now() / 1000);
    const result = await this.#commands.runWithRetries(['oarsub', ...args], {
      retries: this.settings.submitRetries,
      // Jobs oarsub registered although it failed, or that a timed-out oarsub (or one whose
      // answer a dropped connection lost) may have registered: adopted rather than submitted twice.
      beforeRetry: async (failed) => (registered(failed, count) ? failed : failed.mayHaveRun ? this.#findSubmitted(name, count, startedAt) : undefined),
    });
    const jobIds = parseJobIds(result.stdout);
    if (jobIds.length === count && (result.ok || registered(result, count))) {
      // oarsub 2.5 registers the job, then fails to notify a server that is down ("Cannot connect to
      // executor ... Job is killed", exit 9): the job waits in OAR's database and runs once the server
      // is back. Submitting it again would run it twice.
      if (!result.ok) this.#logger.warn(`oarsub registered OAR job(s) ${jobIds.join(', ')} but reported: ${result.message}; following them`);
      return { jobIds };
    }
    const message = result.ok
      ? `oarsub printed ${jobIds.length} job id(s) where ${count} were expected: ${JSON.stringify(result.stdout.trim().slice(0, 500))}`
      : result.transient
        ? `${result.message} (gave up after ${result.attempts} attempts)`
        : oarsubMessage(result);
    return { failure: { code: null, reason: 'rejected', message } };
  }

  /** The jobs named `name` submitted since `since` (epoch seconds), as an oarsub answer, when all `count` are there. */
  async #findSubmitted(name: string, count: number, since: number): Promise<ClusterCommandResult | undefined> {
    // `name` is made of [\w.-] only (jobName): safe inside the SQL string.
    const found = await this.#commands.run(['oarstat', '-J', '--sql', `job_name = '${name}' AND submission_time >= ${since - 60}`]);
    if (!found.ok) return undefined;
    let records: Map<string, OarRecord>;
    try {
      records = parseOarstat(found.stdout);
    } catch {
      return undefined;
    }
    const ids = [...records.keys()].sort((a, b) => Number(a) - Number(b));
    if (ids.length !== count) return undefined;
    this.#logger.debug(`oarsub of ${name} did not answer but its job(s) reached OAR: ${ids.join(', ')}`);
    return { ...found, stdout: ids.map((id) => `OAR_JOB_ID=${id}`).join('\n') };
  }

  // -------------------------------------------------------------------------
  // Status: one oarstat for all handles.

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    const tracked = handles.filter((handle) => handle.clusterId !== undefined);
    const records = tracked.length > 0 ? await this.#query(tracked) : new Map<string, OarRecord>();
    const now = Date.now();
    return Promise.all(
      handles.map(async (handle): Promise<LaunchStatus> => {
        if (handle.clusterId === undefined) return { state: 'unknown', detail: 'the handle has no OAR job id' };
        const record = records.get(handle.clusterId);
        if (!record) {
          this.#markers.forget(handle.clusterId);
          return this.#missing(handle, now);
        }
        const status = oarStatus(record);
        // job.sh's markers are written before OAR notices the end: they win.
        if (status.state === 'running' && (await this.#markers.hasFinalMarker(handle.directory))) return { state: 'finished' };
        if (status.state === 'queued') await this.#markers.dropRequeuedMarker(handle, { requeueHinted: false });
        else if (status.state === 'running') this.#markers.seenStarted(handle.clusterId);
        else this.#markers.forget(handle.clusterId);
        if (status.state === 'finished' && status.failure) return { ...status, failure: await this.#markers.recordVerdict(handle, status.failure, provenanceOf(record)) };
        return status;
      }),
    );
  }

  /** `oarstat -f -J -j ID ...`: any state, finished jobs included (plain `oarstat -J` lists only current ones). */
  async #query(handles: readonly LaunchHandle[]): Promise<Map<string, OarRecord>> {
    const ids = [...new Set(handles.map((handle) => handle.clusterId!))];
    const records = new Map<string, OarRecord>();
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
      const chunk = ids.slice(start, start + IDS_PER_QUERY);
      const result = await this.#commands.run(['oarstat', '-f', '-J', ...chunk.flatMap((id) => ['-j', id])]);
      if (!result.ok) throw new Error(`could not query OAR about ${chunk.length} job(s): ${result.message}`);
      for (const [id, record] of parseOarstat(result.stdout)) records.set(id, record);
    }
    return records;
  }

  /** A job oarstat does not list: just submitted (counts as queued for a grace period), or gone from OAR's database. */
  #missing(handle: LaunchHandle, now: number): Promise<LaunchStatus> {
    return missingJobStatus({ connector: this.connector, handle, scheduler: 'OAR', graceMs: this.#missingGraceMs, notListed: 'is not listed by oarstat', cancelled: this.#cancelledIds.has(handle.clusterId!), now });
  }

  // -------------------------------------------------------------------------
  // Cancel: one oardel for all.

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    const ids = [...new Set(handles.map((handle) => handle.clusterId).filter((id): id is string => id !== undefined))];
    if (ids.length === 0) return;
    for (const id of ids) this.#cancelledIds.add(id);
    // job.sh traps the SIGTERM oardel sends and writes its `failed` marker (reason: cancelled).
    const result = await this.#commands.runWithRetries(['oardel', ...ids], {
      retries: this.settings.submitRetries,
      // With the OAR server down, oardel registers the request, fails to notify the server (exit 2),
      // and the server applies it when it is back: nothing to retry.
      beforeRetry: async (failed) => (/REGISTERED/.test(failed.stdout) ? { ...failed, ok: true } : undefined),
    });
    if (!result.ok) this.#logger.warn(`oardel of ${ids.length} OAR job(s) reported: ${result.message}`);
    else if (result.message) this.#logger.debug(`oardel registered the cancel of ${ids.length} OAR job(s); the OAR server applies it when it answers (${result.message})`);
  }
}

/** When and where OAR ran a job, for the marker of a job it killed before job.sh could write one; undefined when it never started. */
function provenanceOf(record: OarRecord): JobProvenance | undefined {
  if (!record.startTime) return undefined;
  const provenance: JobProvenance = { startedAt: new Date(record.startTime * 1000).toISOString() };
  if (record.stopTime && record.stopTime >= record.startTime) provenance.endedAt = new Date(record.stopTime * 1000).toISOString();
  if (record.hosts?.[0]) provenance.host = record.hosts[0];
  return provenance;
}

function hostDescription(settings: OarLauncherSettings): HostDescription {
  const host: HostDescription = {};
  if (settings.coresPerNode !== undefined) host.cores = settings.coresPerNode;
  if (settings.gpusPerNode !== undefined) host.gpus = settings.gpusPerNode;
  if (settings.walltime !== undefined) host.maxDuration = parseOarWalltime(settings.walltime);
  if (settings.priority !== undefined) host.priority = settings.priority;
  return host;
}

/**
 * The OAR name of one submission: the job's identity and a mark of this submission
 * (`train-3fa2c1d0.1a2b3c`), so that a lost oarsub's job is found among the job's earlier
 * attempts. OAR and an SQL string both take it as it is.
 */
function jobName(name: string): string {
  return `${name.replace(/[^\w.-]/g, '_')}.${randomBytes(3).toString('hex')}`;
}

/**
 * A failed oarsub that registered its jobs all the same: it printed a (positive) id for each
 * and failed only to reach the OAR server afterwards. (A refused job prints none, or `OAR_JOB_ID=-N`.)
 */
function registered(result: ClusterCommandResult, count: number): boolean {
  return !result.ok && parseJobIds(result.stdout).length === count && /Cannot connect to executor|Could not connect to the socket/i.test(`${result.stderr}\n${result.stdout}`);
}

/** oarsub's rejection, without the admission rules' chatter about what they changed. */
function oarsubMessage(result: ClusterCommandResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^OAR_JOB_ID=/.test(line) && !/^\[ADMISSION RULE\] (?:Modify|Set|Add|Automatically)/i.test(line));
  return `oarsub refused the job: ${lines.join(' ') || result.message}`;
}

/**
 * Why OAR cannot run a job under this path, if it cannot: OAR's job launcher writes the
 * working directory and output paths into Perl code between single quotes.
 */
export function unusablePath(path: string): string | undefined {
  if (!/['\\\n\r]/.test(path)) return undefined;
  return (
    `the path ${JSON.stringify(path)} contains a quote, a backslash or a line break, which OAR's job launcher cannot take in a ` +
    'working directory or output path (every job would fail without running); move the workspace to a path without them'
  );
}

function commonTaskId(requests: readonly LaunchRequest[]): string | undefined {
  const first = requests[0]?.taskId;
  return first !== undefined && requests.every((request) => request.taskId === first) ? first.replace(/[^\w.-]/g, '_') : undefined;
}
