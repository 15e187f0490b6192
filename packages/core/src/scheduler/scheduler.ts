// The scheduler turns submitted jobs into launches. Admission (admission.ts,
// tokenShares.ts) decides what a job needs; each launcher's lane
// (launcherLane.ts) holds its queue, batches and polling; launching.ts moves a
// lane's jobs from ready to in flight, pollFlights.ts follows them; this file
// coordinates them, stops (cancellation.ts) and settles jobs, and a watchdog
// (watchdog.ts) catches a lost wake-up. The files in the job directory are the
// truth; these objects only mirror them.
import { hostname } from 'node:os';
import type { Job } from '../job/job.ts';
import type { Logger } from '../logger.ts';
import type { FailureInfo, JobState, LaunchHandle, Launcher, Requirements, RunMode, Token } from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { Admission, type DryRunRecord } from './admission.ts';
import { limitIo } from './limitIo.ts';
import { Cancellation } from './cancellation.ts';
import { FaultLog } from './faults.ts';
import { chooseLauncher } from './chooseLauncher.ts';
import { LauncherLane, type Flight, type PreparedJob } from './launcherLane.ts';
import { Launching } from './launching.ts';
import { pollFlights } from './pollFlights.ts';
import { TokenShares } from './tokenShares.ts';
import { Watchdog } from './watchdog.ts';

export type { DryRunRecord } from './admission.ts';

export interface SchedulerEvents {
  onState(job: Job, previous: JobState): void;
  onDryRun(record: DryRunRecord): void;
}

export interface SchedulerOptions {
  workspace: Workspace;
  runMode: RunMode;
  logger: Logger;
  events: SchedulerEvents;
  experiment: { name: string; runId: string };
  /** Extra tokens declared by the experiment (`xp.token`). */
  tokens: () => Map<string, Token>;
  /** Default launcher name chosen by the experiment, if any. */
  defaultLauncher?: string;
}

/** Admissions touching the workspace's files at once. */
const ADMISSION_IO_CONCURRENCY = 128;

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #logger: Logger;
  readonly #jobs = new Map<string, Job>();
  readonly #lanes = new Map<Launcher | undefined, LauncherLane>();
  readonly #admission: Admission;
  readonly #tokens: TokenShares;
  readonly #launching: Launching;
  readonly #faults: FaultLog;
  /** Requirements alternative chosen for each ready job. */
  readonly #requirements = new Map<Job, Requirements>();
  readonly #resubmissions = new Map<Job, number>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #host = hostname();
  readonly #cancellation: Cancellation;
  readonly #watchdog: Watchdog;
  /** Jobs whose `wait()` has not resolved yet. */
  readonly #unsettled = new Set<Job>();
  #stopped = false;
  #closed = false;
  /** Stopped with `kill`: jobs in flight are cancelled, even those launched while stopping. */
  #killing = false;
  readonly #stopSignal: { promise: Promise<void>; resolve: () => void } = signal();
  #idleWaiters: (() => void)[] = [];
  #pumpScheduled = false;
  /** Launchers told that jobs are coming (warmUp). */
  readonly #warmed = new Set<Launcher>();

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#faults = new FaultLog({ logger: options.logger, connector: options.workspace.connector, workspacePath: options.workspace.path });
    this.#admission = new Admission({
      workspace: options.workspace,
      runMode: options.runMode,
      logger: options.logger,
      faults: this.#faults,
      io: limitIo(ADMISSION_IO_CONCURRENCY),
      experiment: () => this.#options.experiment,
      ownJob: (hash) => this.#jobs.get(hash),
      isStopped: () => this.#stopped,
      stopped: this.#stopSignal.promise,
      launcherFor: (job) => this.launcherFor(job),
      statusOf: (launcher, handle) => this.#lane(launcher).statusOf(handle),
      settle: (job, state, failure) => this.#finish(job, state, failure),
      abandon: (job) => this.#abandon(job),
      ready: (job, launcher, requirements) => {
        if (this.#stopped) return this.#abandon(job);
        this.#setState(job, 'ready');
        this.#requirements.set(job, requirements);
        // Its first job: whatever the launcher starts for jobs gets going now.
        this.#warmUp(launcher);
        this.#lane(launcher).enqueue(job);
        this.#schedulePump();
      },
      follow: (job, launcher, handle, state) => this.#fly(job, this.#lane(launcher), handle, state),
      onDryRun: (record) => this.#options.events.onDryRun(record),
      track: (promise) => this.#track(promise),
    });
    this.#tokens = new TokenShares({
      host: this.#host,
      token: (name) => this.#token(name),
      retry: (jobs) => this.#retryTokenBlocked(jobs),
      onReleaseError: (error) => void this.#faults.internal(error),
    });
    this.#launching = new Launching({
      connector: options.workspace.connector,
      admission: this.#admission,
      faults: this.#faults,
      tokens: this.#tokens,
      requirements: (job) => this.#requirements.get(job) ?? {},
      fly: (job, lane, handle, state) => this.#fly(job, lane, handle, state),
      finish: (job, state, failure) => this.#finish(job, state, failure),
      block: (job) => (this.#stopped ? this.#abandon(job) : this.#tokens.block(job)),
      isStopped: () => this.#stopped,
      abandon: (job) => this.#abandon(job),
      wake: () => {
        this.#schedulePump();
        this.#checkIdle();
      },
      track: (promise) => this.#track(promise),
    });
    this.#cancellation = new Cancellation({
      connector: options.workspace.connector,
      logger: options.logger,
      faults: this.#faults,
      lanes: () => this.#lanes.values(),
      land: (flight, state, failure) => this.#land(flight, state, failure),
      track: (promise) => this.#track(promise),
    });
    this.#watchdog = new Watchdog({
      logger: options.logger,
      lanes: () => this.#lanes.values(),
      tokens: this.#tokens,
      active: () => !this.#stopped && !this.#closed && this.#unsettled.size > 0,
      pump: () => this.#schedulePump(),
    });
    for (const launcher of options.workspace.launchers.values()) {
      if (launcher.onChange) this.#unsubscribe.push(launcher.onChange(() => this.#lane(launcher).changed()));
    }
  }

  /** Records which experiment run writes the job files (in params.json). */
  setExperimentInfo(info: { name: string; runId: string }): void {
    this.#options.experiment = info;
  }

  get runMode(): RunMode {
    return this.#options.runMode;
  }

  get jobs(): Iterable<Job> {
    return this.#jobs.values();
  }

  /** The job with this hash if it was submitted in this experiment. */
  get(hash: string): Job | undefined {
    return this.#jobs.get(hash);
  }

  /** Picks the launcher for a job; throws for an unknown launcher name. */
  launcherFor(job: Job): { launcher: Launcher; requirements: Requirements } | { failure: FailureInfo } {
    return chooseLauncher({
      workspace: this.#options.workspace,
      requested: job.launcherName,
      fallback: this.#options.defaultLauncher,
      alternatives: job.requirements,
    });
  }

  /**
   * Tells the default launcher that jobs are coming (Launcher.warmUp): what it starts
   * then (a thread, a connection) gets ready while the experiment opens and submits.
   */
  warmUp(): void {
    if (this.#options.runMode !== 'normal') return;
    const name = this.#options.defaultLauncher ?? this.#options.workspace.defaultLauncher;
    const launcher = name === undefined ? undefined : this.#options.workspace.launchers.get(name);
    this.#warmUp(launcher);
  }

  /** Once per launcher: Launcher.warmUp, whose failure is Baton's to report, never the job's. */
  #warmUp(launcher: Launcher | undefined): void {
    if (!launcher?.warmUp || this.#warmed.has(launcher)) return;
    this.#warmed.add(launcher);
    try {
      launcher.warmUp();
    } catch (error) {
      void this.#faults.internal(error);
    }
  }

  /** Registers a job (once per hash) and starts its way through the states. */
  add(job: Job): void {
    if (this.#jobs.has(job.hash)) return;
    this.#jobs.set(job.hash, job);
    this.#unsettled.add(job);
    if (!this.#stopped && !this.#closed) this.#watchdog.start();
    this.#admission.admit(job);
  }

  /**
   * Writes a job's directory and script without running it; a job that is done,
   * or running somewhere, is left as it is. Returns what the job is.
   */
  prepare(job: Job): Promise<'done' | 'running' | 'prepared'> {
    return this.#admission.prepare(job);
  }

  /** Resolves when every job settled (once stopped: when those being launched or cancelled are through). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops launching. Every job not launched yet settles as it is (waiting or
   * ready: not started). Without `kill`, jobs in flight keep running (the next
   * run re-attaches them) and settle now too; with it, they are cancelled and
   * settle as soon as their launcher confirms their end.
   */
  async stop({ kill = false }: { kill?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    this.#watchdog.stop();
    this.#killing ||= kill;
    this.#stopSignal.resolve();
    const prepared: PreparedJob[] = [];
    for (const lane of this.#lanes.values()) {
      for (const job of lane.ready.splice(0)) this.#abandon(job);
      prepared.push(...lane.prepared.splice(0));
    }
    for (const job of this.#tokens.close()) this.#abandon(job);
    await Promise.all(
      prepared.map(async (entry) => {
        await entry.release();
        this.#abandon(entry.job);
      }),
    );
    const flights = [...this.#lanes.values()].flatMap((lane) => [...lane.flights.values()]);
    if (kill) await this.#cancellation.cancel(flights.filter((flight) => !flight.cancelRequested));
    else for (const flight of flights) this.#abandon(flight.job);
    this.#checkIdle();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watchdog.stop();
    this.#cancellation.close();
    this.#admission.close();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const lane of this.#lanes.values()) lane.close();
    this.#tokens.close();
    await Promise.allSettled([...this.#pending]);
  }

  #lane(launcher: Launcher | undefined): LauncherLane {
    let lane = this.#lanes.get(launcher);
    if (!lane) {
      lane = new LauncherLane(launcher, {
        poll: (polled) => this.#poll(polled),
        wake: () => this.#schedulePump(),
        track: (promise) => this.#track(promise),
        arriving: () => this.#admission.arriving,
      });
      this.#lanes.set(launcher, lane);
    }
    return lane;
  }

  #token(name: string): Token {
    const token = this.#options.tokens().get(name) ?? this.#options.workspace.tokens.get(name);
    if (!token) throw new Error(`unknown token "${name}"`); // checked at submit
    return token;
  }

  #retryTokenBlocked(jobs: Job[]): void {
    if (this.#stopped) return jobs.forEach((job) => this.#abandon(job));
    for (const job of jobs) {
      const choice = this.launcherFor(job);
      if ('launcher' in choice) this.#lane(choice.launcher).enqueue(job, 'front');
    }
    this.#schedulePump();
  }

  // -------------------------------------------------------------------------
  // Launching (launching.ts) whenever something changed.

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#stopped) return;
    for (const lane of this.#lanes.values()) this.#launching.advance(lane);
  }

  // -------------------------------------------------------------------------
  // Following launched jobs: one status query per launcher per poll.

  #fly(job: Job, lane: LauncherLane, handle: LaunchHandle, state: 'queued' | 'running'): void {
    job.handle = handle;
    const flight = lane.follow(job, handle);
    this.#setState(job, state);
    if (!this.#stopped) return;
    // Launched (or re-attached) while the experiment stopped: as the others in flight.
    if (this.#killing) this.#track(this.#cancellation.cancel([flight]));
    else this.#abandon(job);
  }

  #poll(lane: LauncherLane): Promise<boolean | undefined> {
    return pollFlights(lane, {
      connector: this.#options.workspace.connector,
      logger: this.#logger,
      faults: this.#faults,
      workspacePath: this.#options.workspace.path,
      update: (job, state, detail) => {
        job.detail = detail;
        if (job.state !== state) this.#setState(job, state);
        // A new pending reason on a job still queued is news too.
        else this.#announce(job, job.state);
      },
      land: (flight, state, failure) => this.#land(flight, state, failure),
    });
  }

  #land(flight: Flight, state: 'done' | 'failed', failure?: FailureInfo): void {
    flight.lane.flights.delete(flight.job.hash);
    this.#cancellation.settled(flight);
    if (state === 'failed' && failure?.reason === 'timeout' && this.#resubmit(flight)) return;
    this.#finish(flight.job, state, failure);
  }

  /** A resumable job that hit its time limit goes back to the queue, up to its retry count. */
  #resubmit(flight: Flight): boolean {
    const { job, lane } = flight;
    const resumable = job.task.resumable;
    const attempts = this.#resubmissions.get(job) ?? 0;
    if (!resumable || !lane.launcher || this.#stopped || flight.cancelRequested || attempts >= resumable.retries) return false;
    this.#resubmissions.set(job, attempts + 1);
    this.#logger.info(`job ${job.shortName} reached its time limit; resubmitting it (${attempts + 1}/${resumable.retries})`);
    this.#setState(job, 'ready');
    this.#track(
      this.#tokens.release(job).then(() => {
        if (this.#stopped) return this.#abandon(job);
        lane.enqueue(job);
        this.#schedulePump();
      }),
    );
    return true;
  }

  // -------------------------------------------------------------------------
  // Settling

  #finish(job: Job, state: JobState, failure?: FailureInfo): void {
    // Already finished: nothing to record, but whatever led here may have freed a slot.
    if (job.isFinished && (state === 'done' || state === 'failed')) return this.#schedulePump();
    job.failure = failure;
    this.#setState(job, state);
    this.#requirements.delete(job);
    if (this.#tokens.holds(job)) this.#track(this.#tokens.release(job).then(() => this.#tokens.retryBlocked()));
    this.#settle(job);
    this.#schedulePump();
  }

  /** A job this run will not see through (the experiment stopped): it settles as it is. */
  #abandon(job: Job): void {
    this.#settle(job);
  }

  /** Resolves the job's `wait()`, once. */
  #settle(job: Job): void {
    if (!this.#unsettled.delete(job)) return;
    job.markSettled();
    this.#checkIdle();
  }

  #setState(job: Job, state: JobState): void {
    const previous = job.state;
    if (previous === state) return;
    job.state = state;
    this.#announce(job, previous);
  }

  /** Tells the listeners; one that throws is reported, and never stops the job on its way (settling, waking). */
  #announce(job: Job, previous: JobState): void {
    try {
      this.#options.events.onState(job, previous);
    } catch (error) {
      void this.#faults.internal(error);
    }
  }

  #isIdle(): boolean {
    return this.#unsettled.size === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    this.#watchdog.stop();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #track<T>(promise: Promise<T>): void {
    this.#pending.add(promise);
    // One reaction, not a catch and a finally: tracked twice per job, every promise counts.
    const settled = () => void this.#pending.delete(promise);
    promise.then(settled, (error: unknown) => this.#faults.internal(error).finally(settled));
  }
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}
