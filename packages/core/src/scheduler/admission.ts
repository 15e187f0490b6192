// Admission: what a submitted job needs before it may take a launcher's slot.
// A done job is never run again; a job waits for its dependencies; a job some
// launcher still runs is re-attached, not restarted; a job is prepared (files
// written) only under its claim (jobClaims.ts), so that two processes never launch it both.
import { hostname } from 'node:os';
import type { Job } from '../job/job.ts';
import { jobFile } from '../job/jobFiles.ts';
import { writeJobFiles } from '../job/writeJobFiles.ts';
import type { Logger } from '../logger.ts';
import type { JobReference } from '../task/jobOutput.ts';
import type { FailureInfo, JobState, LaunchHandle, LaunchStatus, Launcher, Requirements, RunMode } from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';
import type { FaultLog } from './faults.ts';
import { JobClaims, type ReleaseClaim } from './jobClaims.ts';
import type { IoLimit } from './limitIo.ts';
import { launcherMayKnowBetter, readMarkers, readProcessFile, writeFailedMarker, type MarkerState } from './jobMarkers.ts';
import { ForeignDependencies } from './foreignDependencies.ts';
import { TaskListings } from './taskListings.ts';

/** Submitted jobs looked at at once (each look bounded again by the file-work limit). */
const LOOKERS = 64;

export type { ReleaseClaim } from './jobClaims.ts';

export interface DryRunRecord {
  taskId: string;
  hash: string;
  directory: string;
  state: 'done' | 'failed' | 'running' | 'would run';
  launcher: string;
  /** Directories of the jobs this one depends on. */
  dependencies: string[];
}

/** What admission asks of the scheduler. */
export interface AdmissionContext {
  workspace: Workspace;
  runMode: RunMode;
  logger: Logger;
  faults: FaultLog;
  /** Bounds the file work of admission: 10,000 jobs submitted at once must not open 10,000 files. */
  io: IoLimit;
  /** The experiment run that writes the job files (recorded in params.json). */
  experiment(): { name: string; runId: string };
  /** A job submitted in this experiment, by hash. */
  ownJob(hash: string): Job | undefined;
  isStopped(): boolean;
  /** Resolves when the experiment stops. */
  stopped: Promise<void>;
  launcherFor(job: Job): { launcher: Launcher; requirements: Requirements } | { failure: FailureInfo };
  /** What a launcher says of a job it may run, batched with other such questions. */
  statusOf(launcher: Launcher, handle: LaunchHandle): Promise<LaunchStatus>;
  /** The job ended (or, outside normal mode, is as far as it goes). */
  settle(job: Job, state: JobState, failure?: FailureInfo): void;
  /** The job was left unstarted because the experiment stopped. */
  abandon(job: Job): void;
  /** The job may run: queue it on this launcher. */
  ready(job: Job, launcher: Launcher, requirements: Requirements): void;
  /** Some launcher runs the job: follow it (by its markers alone when `launcher` is undefined). */
  follow(job: Job, launcher: Launcher | undefined, handle: LaunchHandle, state: 'queued' | 'running'): void;
  onDryRun(record: DryRunRecord): void;
  /** Keeps a promise for close() and logs its failure. */
  track(promise: Promise<unknown>): void;
}

export class Admission {
  readonly #context: AdmissionContext;
  readonly #host = hostname();
  /** Jobs on their way to ready (not waiting on dependencies): a batching launcher waits for them. */
  #arriving = 0;
  /** Jobs submitted and not looked at yet, in submit order, from #incomingHead on. */
  #incoming: (Job | undefined)[] = [];
  #incomingHead = 0;
  /** Lookers taking jobs from #incoming. */
  #lookers = 0;
  /** The attempt of each job this process saw end and retries (see attemptKey). */
  readonly #retiredAttempts = new WeakMap<Job, string>();
  readonly #claims: JobClaims;
  /** Task folders listed when their first job was fresh: the next fresh ones need no look. */
  readonly #listings: TaskListings;
  /** Dependencies from elsewhere (another experiment's jobs), followed until they end. */
  readonly #foreign: ForeignDependencies;

  constructor(context: AdmissionContext) {
    this.#context = context;
    this.#claims = new JobClaims({ connector: context.workspace.connector, faults: context.faults });
    this.#listings = new TaskListings(context.workspace.connector);
    this.#foreign = new ForeignDependencies({ ...context, connector: context.workspace.connector, launcherForHandle: (handle) => this.#launcherForHandle(handle) });
  }

  /** Stops refreshing fresh claims (the experiment is closing). */
  close(): void {
    this.#claims.close();
  }

  get #connector() {
    return this.#context.workspace.connector;
  }

  /**
   * Takes a submitted job as far as its run mode goes; a fault ends the job, never the scheduler.
   * Submitted jobs wait in a queue for one of a few lookers: 10,000 jobs submitted in a loop
   * are 10,000 entries of an array, not 10,000 suspended calls (memory, and the collector's time).
   */
  admit(job: Job): void {
    this.#incoming.push(job);
    this.#arriving++;
    if (this.#lookers >= LOOKERS) return;
    this.#lookers++;
    this.#context.track(this.#look());
  }

  /** One looker: takes submitted jobs in order until none is left. */
  async #look(): Promise<void> {
    try {
      for (let job = this.#takeIncoming(); job; job = this.#takeIncoming()) await this.#admitOne(job);
    } finally {
      this.#lookers--;
    }
  }

  #takeIncoming(): Job | undefined {
    if (this.#incomingHead >= this.#incoming.length) {
      this.#incoming = [];
      this.#incomingHead = 0;
      return undefined;
    }
    const job = this.#incoming[this.#incomingHead];
    this.#incoming[this.#incomingHead++] = undefined;
    // Drop the taken front now and then (shift() per job would be quadratic).
    if (this.#incomingHead > 1024 && this.#incomingHead * 2 > this.#incoming.length) {
      this.#incoming.splice(0, this.#incomingHead);
      this.#incomingHead = 0;
    }
    return job;
  }

  /** Looks at one submitted job; what may wait (dependencies) goes on without the looker. */
  async #admitOne(job: Job): Promise<void> {
    const { io, runMode } = this.#context;
    let fresh: true | undefined;
    try {
      if (runMode === 'dry-run') return await io(() => this.#dryRun(job));
      if (runMode === 'generate') return await io(() => this.#generate(job));
      // What its task folder's listing says (a job the listing does not have has no
      // directory: nothing to look at); the folder's first job probes it.
      let listed = this.#listings.verdict(job.directory);
      while (typeof listed !== 'string') {
        await listed;
        listed = this.#listings.verdict(job.directory);
      }
      const verdict: 'done' | 'fresh' | 'look' = listed === 'probe' ? await this.#probe(job) : listed;
      if (verdict === 'fresh') fresh = true;
      // Fast path for resumed experiments: a done job never runs again.
      else if (verdict === 'done' || (await io(() => this.#connector.exists(jobFile(job.directory, 'done'))))) return this.#context.settle(job, 'done');
    } catch (error) {
      return this.#fault(job, error);
    } finally {
      if (runMode !== 'normal' || job.isFinished) this.#arriving--;
    }
    const arrived = () => void this.#arriving--;
    this.#context.track(
      this.#admitNormal(job, fresh).then(arrived, (error: unknown) => {
        this.#fault(job, error);
        arrived();
      }),
    );
  }

  /**
   * The first job of its task folder: its marker, then its directory, while the task's
   * other jobs wait; the folder is listed when it has no directory (taskListings.ts).
   */
  async #probe(job: Job): Promise<'done' | 'fresh' | 'look'> {
    const { io } = this.#context;
    let hasDirectory: boolean | undefined;
    try {
      if (await io(() => this.#connector.exists(jobFile(job.directory, 'done')))) {
        hasDirectory = true;
        return 'done';
      }
      hasDirectory = await io(() => this.#connector.exists(job.directory));
      return hasDirectory ? 'look' : 'fresh';
    } finally {
      await this.#listings.probed(job.directory, hasDirectory);
    }
  }

  #fault(job: Job, error: unknown): void {
    this.#context.settle(job, 'failed', this.#context.faults.jobFault(job, error, { doing: 'Baton could not run the job', tell: true }));
  }

  /** True while some submitted job is on its way to ready (a launcher's batch should wait for it). */
  get arriving(): boolean {
    return this.#arriving > 0;
  }

  /**
   * Writes a job's directory and script without running it; a job that is done,
   * or running somewhere, is left as it is. Returns what the job is.
   */
  async prepare(job: Job): Promise<'done' | 'running' | 'prepared'> {
    const release = await this.#claims.claim(job);
    let recorded = true;
    try {
      if (await this.#connector.exists(jobFile(job.directory, 'done'))) return 'done';
      if (await this.#runningElsewhere(job)) return 'running';
      recorded = false;
      await this.writeJobFiles(job, { claimed: true });
      return 'prepared';
    } finally {
      await release(recorded);
    }
  }

  /**
   * Looks at a ready job again under its claim (another process may have run or
   * launched it meanwhile) and writes its files. A prepared job keeps its claim
   * until it is handed to a launcher: a process that wants it waits, then re-attaches.
   * `script`: whether the launcher runs job.sh (Launcher.runsJobScript); without it none is written.
   */
  async prepareForLaunch(job: Job, { script = true }: { script?: boolean } = {}): Promise<{ release: ReleaseClaim; firstLaunch: boolean } | undefined> {
    const fresh = await this.#claims.claimFresh(job, () => this.writeJobFiles(job, { claimed: true, fresh: true, script }));
    if (fresh) return { release: fresh, firstLaunch: true };
    const release = await this.#claims.claim(job);
    try {
      if (await this.#connector.exists(jobFile(job.directory, 'done'))) {
        this.#context.settle(job, 'done');
      } else if (!(await this.reattach(job))) {
        await this.#removeFailedMarker(job);
        await this.writeJobFiles(job, { claimed: true, script });
        // No process.json yet: the launch writes it in one create (see Launching).
        return { release, firstLaunch: !(await this.#connector.exists(jobFile(job.directory, 'process'))) };
      }
    } catch (error) {
      await release();
      throw error;
    }
    await release(true);
    return undefined;
  }

  writeJobFiles(job: Job, options: { claimed?: boolean; fresh?: boolean; script?: boolean } = {}): Promise<void> {
    return writeJobFiles({
      connector: this.#connector,
      job,
      workspaceEnv: this.#context.workspace.env,
      experiment: this.#context.experiment(),
      claimed: options.claimed,
      fresh: options.fresh,
      script: options.script,
      functionTasks: this.#context.workspace.functionTasks,
    });
  }

  /** Adopts the job if some launcher still runs it (this process's earlier life, or another process). */
  async reattach(job: Job): Promise<boolean> {
    const { logger } = this.#context;
    // A job never launched has no process.json: one look (a stat, for the local connector) instead of a read.
    if (!(await this.#connector.exists(jobFile(job.directory, 'process')))) return false;
    const handle = await readProcessFile(this.#connector, job.directory);
    if (!handle) return false;
    // The attempt this process already saw end, and is about to retry: nothing to follow
    // (a launcher may still call a just-ended job queued for a while: accounting lag).
    if (this.#retiredAttempts.get(job) === attemptKey(handle)) return false;
    const markers = await readMarkers(this.#connector, job.directory);
    if (markers.state === 'done') {
      this.#context.settle(job, 'done');
      return true;
    }
    // A job that failed is retried, unless job.sh only saw a signal: its launcher
    // may have it queued again (a requeue), which the launcher says below.
    if (markers.state === 'failed' && !launcherMayKnowBetter(markers)) return this.#retire(job, handle);
    const launcher = this.#launcherForHandle(handle);
    if (!launcher) {
      if (handle.host === this.#host && handle.kind === 'local') return false;
      // A process of this host that is gone runs nothing (e.g. the experiment that ran a threads job).
      if (handle.host === this.#host && handle.pid !== undefined && !(await this.#connector.isProcessGroupAlive(handle.pid)) && !(await this.#connector.isProcessAlive(handle.pid))) {
        return false;
      }
      // A launcher this process does not know: follow the markers only.
      logger.warn(`job ${job.shortName} runs on launcher "${handle.launcher}" which this workspace does not declare; following its markers`);
      this.#context.follow(job, undefined, handle, 'running');
      return true;
    }
    const status = await this.#context.statusOf(launcher, handle);
    if (status.state === 'finished') {
      const after = await readMarkers(this.#connector, job.directory);
      if (after.state === 'done') {
        this.#context.settle(job, 'done');
        return true;
      }
      return this.#retire(job, handle);
    }
    if (status.state === 'unknown') {
      // Still running somewhere this process cannot see (another host), or the
      // launcher cannot tell right now: follow the markers, never launch twice.
      logger.warn(`job ${job.shortName} has a process this host cannot check (${handle.kind} on ${handle.host}); following its markers`);
      this.#context.follow(job, launcher, handle, 'running');
      return true;
    }
    logger.debug(`re-attached ${job.shortName} (${handle.kind} ${handle.pid ?? handle.clusterId})`);
    this.#context.follow(job, launcher, handle, status.state);
    return true;
  }

  /** Removes the `failed` marker of an earlier attempt; most jobs have none (a look instead of a removal). */
  async #removeFailedMarker(job: Job): Promise<void> {
    const failed = jobFile(job.directory, 'failed');
    if (await this.#connector.exists(failed)) await this.#connector.remove(failed);
  }

  /** Remembers that the attempt `handle` names has ended: the job is retried, never re-attached to it. */
  #retire(job: Job, handle: LaunchHandle): false {
    this.#retiredAttempts.set(job, attemptKey(handle));
    return false;
  }

  /**
   * A normal run's job that is not done: dependencies, re-attach, then ready for a launcher.
   * `fresh`: its task folder's listing says it has no directory (see taskListings.ts).
   */
  async #admitNormal(job: Job, fresh?: true): Promise<void> {
    const { io } = this.#context;
    // Most jobs have no dependency: no wait, and no promise for one.
    const failedDependency = job.dependencies.length > 0 ? await this.#waitForDependencies(job) : undefined;
    // Stopped (while it waited): the job settles as not started, whatever its dependencies became.
    if (this.#context.isStopped()) return this.#context.abandon(job);
    if (failedDependency) return this.#failDependent(job, failedDependency);

    if (fresh) this.#claims.unmade(job);
    else if (await io(() => this.#reattachOrRetry(job))) return;

    const choice = this.#context.launcherFor(job);
    if ('failure' in choice) {
      await this.writeJobFiles(job);
      await writeFailedMarker(this.#connector, job.directory, choice.failure);
      return this.#context.settle(job, 'failed', choice.failure);
    }
    this.#context.ready(job, choice.launcher, choice.requirements);
  }

  /**
   * True when the job was re-attached (or found done). Otherwise it runs: a job without
   * a directory has never been launched; a failed one is retried, its old marker removed
   * first, so that token holders (which count a marked job as finished) see the retry as live.
   */
  async #reattachOrRetry(job: Job): Promise<boolean> {
    if (!(await this.#connector.exists(job.directory))) {
      this.#claims.unmade(job);
      return false;
    }
    if (await this.reattach(job)) return true;
    await this.#removeFailedMarker(job);
    return false;
  }

  /** A dependency did not succeed: the job fails without running, its files and marker saying why. */
  async #failDependent(job: Job, dependency: JobReference): Promise<void> {
    const failure: FailureInfo = {
      code: null,
      reason: 'dependency',
      message: `dependency ${dependency.taskId}/${dependency.hash.slice(0, 12)} did not succeed (${dependency.directory})`,
    };
    await this.#context.io(async () => {
      await this.writeJobFiles(job);
      await writeFailedMarker(this.#connector, job.directory, failure);
    });
    this.#context.settle(job, 'failed', failure);
  }

  /** Returns the first dependency that did not succeed, if any; while it waits, the job is not on its way to a batch. */
  async #waitForDependencies(job: Job): Promise<JobReference | undefined> {
    this.#arriving--;
    try {
      return await this.#firstFailedDependency(job);
    } finally {
      this.#arriving++;
    }
  }

  async #firstFailedDependency(job: Job): Promise<JobReference | undefined> {
    for (const dependency of job.dependencies) {
      const own = this.#context.ownJob(dependency.hash);
      if (own) {
        await Promise.race([own.wait(), this.#context.stopped]);
        if (this.#context.isStopped()) return undefined;
        if (own.state !== 'done') return dependency;
      } else if (!(await this.#foreign.succeeded(dependency, job))) {
        return this.#context.isStopped() ? undefined : dependency;
      }
    }
    return undefined;
  }

  #launcherForHandle(handle: LaunchHandle): Launcher | undefined {
    const { launchers } = this.#context.workspace;
    const byName = launchers.get(handle.launcher);
    if (byName && byName.kind === handle.kind) return byName;
    for (const launcher of launchers.values()) if (launcher.kind === handle.kind) return launcher;
    return undefined;
  }

  async #dryRun(job: Job): Promise<void> {
    const choice = this.#context.launcherFor(job);
    const launcher = 'launcher' in choice ? choice.launcher.name : `none (${choice.failure.message})`;
    const markers = await this.#readMarkersIfAny(job);
    let state: DryRunRecord['state'] = markers.state === 'none' ? 'would run' : markers.state;
    if (state === 'would run' && (await this.#runningElsewhere(job))) state = 'running';
    this.#context.onDryRun({
      taskId: job.taskId,
      hash: job.hash,
      directory: job.directory,
      state,
      launcher,
      dependencies: job.dependencies.map((dependency) => dependency.directory),
    });
    this.#context.settle(job, state === 'done' ? 'done' : state === 'failed' ? 'failed' : 'ready', markers.state === 'failed' ? markers.failure : undefined);
  }

  async #generate(job: Job): Promise<void> {
    const outcome = await this.prepare(job);
    this.#context.settle(job, outcome === 'prepared' ? 'ready' : outcome);
  }

  /**
   * The job's markers; a job never run has none, which a look at each tells
   * (for the local connector a stat, not a failed open and its error object).
   */
  async #readMarkersIfAny(job: Job): Promise<MarkerState> {
    const [done, failed] = await Promise.all([this.#connector.exists(jobFile(job.directory, 'done')), this.#connector.exists(jobFile(job.directory, 'failed'))]);
    return done || failed ? readMarkers(this.#connector, job.directory) : { state: 'none' };
  }

  async #runningElsewhere(job: Job): Promise<boolean> {
    if (!(await this.#connector.exists(jobFile(job.directory, 'process')))) return false;
    const handle = await readProcessFile(this.#connector, job.directory);
    const launcher = handle && this.#launcherForHandle(handle);
    if (!handle || !launcher) return false;
    const status = await this.#context.statusOf(launcher, handle);
    return status.state === 'running' || status.state === 'queued';
  }
}

/** One launch of a job: a later launch (here or by another process) writes another process.json. */
function attemptKey(handle: LaunchHandle): string {
  return JSON.stringify([handle.launcher, handle.kind, handle.host, handle.pid ?? null, handle.clusterId ?? null, handle.submittedAt]);
}
