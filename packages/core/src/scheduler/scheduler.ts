// The scheduler turns submitted jobs into launches: it waits for dependencies,
// skips finished jobs, re-attaches running ones, holds tokens, bounds each
// launcher's concurrency, submits in batches and polls status once per
// launcher per interval. The files in the job directory are the truth; this
// object only mirrors them.
import { hostname } from 'node:os';
import pLimit from 'p-limit';
import { Job } from '../job/job.ts';
import { jobFile } from '../job/jobFiles.ts';
import { writeJobFiles } from '../job/writeJobFiles.ts';
import type { Logger } from '../logger.ts';
import type { JobReference } from '../task/jobOutput.ts';
import type {
  Connector,
  FailureInfo,
  JobState,
  LaunchHandle,
  LaunchRequest,
  Launcher,
  ReleaseLock,
  Requirements,
  RunMode,
  Token,
  TokenHolder,
} from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { chooseLauncher } from './chooseLauncher.ts';
import { readMarkers, readProcessFile, writeFailedMarker, writeProcessFile } from './jobMarkers.ts';

export interface DryRunRecord {
  taskId: string;
  hash: string;
  directory: string;
  state: 'done' | 'failed' | 'running' | 'would run';
  launcher: string;
  /** Directories of the jobs this one depends on. */
  dependencies: string[];
}

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

/** How long a process waits for another process's claim on a job. */
const CLAIM_WAIT_MS = 120_000;
/** A claim whose holder stopped refreshing it for this long is dead. */
const CLAIM_STALE_MS = 10_000;
/** Admissions touching the workspace's files at once. */
const ADMISSION_IO_CONCURRENCY = 128;
/** A gathering window never stays open longer than this many submit delays. */
const GATHER_MAX_DELAYS = 5;
/** Jobs claimed and written at once per launcher, and at least this many ahead of free slots. */
const MAX_PREPARING = 64;
const MIN_PREFETCH = 16;
/** How long cancelled jobs get to end by themselves before they are marked cancelled. */
const KILL_SETTLE_MS = 30_000;
/** How often jobs blocked on tokens held by other processes look again. */
const TOKEN_RETRY_MS = 500;
/** Poll intervals grow by this factor per unchanged poll, up to MAX_POLL_BACKOFF times the launcher's. */
const POLL_BACKOFF_FACTOR = 1.5;
const MAX_POLL_BACKOFF = 8;
/** ...and never beyond this, unless the launcher's own interval is longer. */
const MAX_POLL_INTERVAL_MS = 30_000;
/** How long a finished job may go without a marker (NFS lag) before it counts as lost. */
const MISSING_MARKER_GRACE_MS = 1500;

interface PreparedJob {
  job: Job;
  /** Releases the job's claim. */
  release: ReleaseLock;
}

interface Flight {
  job: Job;
  launcher: Launcher | undefined;
  handle: LaunchHandle;
  /** When a finished job was first seen without a marker. */
  missingMarkerSince?: number;
  cancelRequested: boolean;
}

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #connector: Connector;
  readonly #logger: Logger;
  readonly #jobs = new Map<string, Job>();
  readonly #ready = new Map<Launcher, Job[]>();
  readonly #flights = new Map<Launcher | undefined, Map<string, Flight>>();
  /** Jobs being claimed and written, per launcher. */
  readonly #preparing = new Map<Launcher, number>();
  /** Claimed jobs with their files written, waiting for a slot. */
  readonly #prepared = new Map<Launcher, PreparedJob[]>();
  /** Jobs being handed to a launcher (counted against its bound). */
  readonly #starting = new Map<Launcher, number>();
  readonly #tokenBlocked = new Set<Job>();
  readonly #resubmissions = new Map<Job, number>();
  /** Open gathering windows of batching launchers: first and last arrival, size at the last. */
  readonly #gatherWindows = new Map<Launcher, { first: number; last: number; size: number }>();
  readonly #gatherTimers = new Map<Launcher, NodeJS.Timeout>();
  readonly #heldTokens = new Map<Job, { token: Token; holder: TokenHolder }[]>();
  readonly #pollTimers = new Map<Launcher | undefined, NodeJS.Timeout>();
  readonly #polling = new Map<Launcher | undefined, Promise<void>>();
  readonly #repoll = new Set<Launcher | undefined>();
  /** Multiplier of each launcher's poll interval, grown while polls see no change. */
  readonly #pollBackoff = new Map<Launcher | undefined, number>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #host = hostname();
  /** Bounds the file work of admission: 10,000 jobs submitted at once must not open 10,000 files. */
  readonly #io = pLimit(ADMISSION_IO_CONCURRENCY);
  #tokenTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #unsettled = 0;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  #pumpScheduled = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#connector = options.workspace.connector;
    this.#logger = options.logger;
    for (const launcher of options.workspace.launchers.values()) {
      if (launcher.onChange) this.#unsubscribe.push(launcher.onChange(() => this.#pollSoon(launcher)));
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

  /** Registers a job (once per hash) and starts its way through the states. */
  add(job: Job): void {
    if (this.#jobs.has(job.hash)) return;
    this.#jobs.set(job.hash, job);
    this.#unsettled++;
    this.#track(this.#admit(job));
  }

  /**
   * Writes a job's directory and script without running it; a job that is done,
   * or running somewhere, is left as it is. Returns what the job is.
   */
  async prepare(job: Job): Promise<'done' | 'running' | 'prepared'> {
    const release = await this.#claim(job);
    try {
      if (await this.#connector.exists(jobFile(job.directory, 'done'))) return 'done';
      if (await this.#runningElsewhere(job)) return 'running';
      await this.#writeJobFiles(job);
      return 'prepared';
    } finally {
      await release();
    }
  }

  /** Resolves when every job settled, or, once stopped, when nothing is being launched. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops launching; with `kill`, cancels the jobs this process launched or re-attached. */
  async stop({ kill = false }: { kill?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    for (const queue of this.#ready.values()) queue.length = 0;
    const prepared = [...this.#prepared.values()].flatMap((queue) => queue.splice(0));
    await Promise.all(prepared.map((entry) => entry.release()));
    this.#tokenBlocked.clear();
    if (kill) {
      const work: Promise<void>[] = [];
      for (const [launcher, flights] of this.#flights) {
        const list = [...flights.values()].filter((flight) => !flight.cancelRequested);
        for (const flight of list) flight.cancelRequested = true;
        if (launcher && list.length > 0) work.push(launcher.cancel(list.map((flight) => flight.handle)));
      }
      await Promise.all(work);
      for (const launcher of this.#flights.keys()) this.#pollSoon(launcher);
      // The cancelled jobs settle through the usual polls (markers, or the launcher's
      // verdict); one that still has not after a while is marked cancelled here.
      this.#killTimer = setTimeout(() => this.#track(this.#settleCancelled()), KILL_SETTLE_MS);
    }
    this.#checkIdle();
  }

  async #settleCancelled(): Promise<void> {
    for (const flights of this.#flights.values()) {
      for (const flight of [...flights.values()].filter((candidate) => candidate.cancelRequested)) {
        const markers = await readMarkers(this.#connector, flight.job.directory);
        if (markers.state === 'done') this.#land(flight, 'done');
        else if (markers.state === 'failed') this.#land(flight, 'failed', markers.failure);
        else {
          const failure: FailureInfo = { code: null, reason: 'cancelled', message: 'cancelled by Baton; the launcher did not confirm its end' };
          await writeFailedMarker(this.#connector, flight.job.directory, failure);
          this.#land(flight, 'failed', failure);
        }
      }
    }
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const timer of this.#pollTimers.values()) clearTimeout(timer);
    for (const timer of this.#gatherTimers.values()) clearTimeout(timer);
    if (this.#tokenTimer) clearTimeout(this.#tokenTimer);
    if (this.#killTimer) clearTimeout(this.#killTimer);
    await Promise.allSettled([...this.#pending]);
  }

  // -------------------------------------------------------------------------
  // Admission: decide what a submitted job needs.

  async #admit(job: Job): Promise<void> {
    try {
      switch (this.#options.runMode) {
        case 'dry-run':
          return await this.#io(() => this.#dryRun(job));
        case 'generate':
          return await this.#io(() => this.#generate(job));
        default:
          return await this.#admitNormal(job);
      }
    } catch (error) {
      this.#logger.error(`job ${job.shortName}: ${error instanceof Error ? error.message : String(error)}`);
      this.#finish(job, 'failed', {
        code: null,
        reason: 'failed',
        message: `Baton could not run the job: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  async #admitNormal(job: Job): Promise<void> {
    // Fast path for resumed experiments: a done job never runs again.
    if (await this.#io(() => this.#connector.exists(jobFile(job.directory, 'done')))) return this.#finish(job, 'done');

    const failedDependency = await this.#waitForDependencies(job);
    if (failedDependency) {
      const failure: FailureInfo = {
        code: null,
        reason: 'dependency',
        message: `dependency ${failedDependency.taskId}/${failedDependency.hash.slice(0, 12)} did not succeed (${failedDependency.directory})`,
      };
      await this.#io(async () => {
        await this.#writeJobFiles(job);
        await writeFailedMarker(this.#connector, job.directory, failure);
      });
      return this.#finish(job, 'failed', failure);
    }
    if (this.#stopped) return this.#abandon(job);

    const reattached = await this.#io(async () => {
      // A job without a directory has never been launched: nothing to look for.
      if (!(await this.#connector.exists(job.directory))) return false;
      if (await this.#reattach(job)) return true;
      // A failed job is retried: its old marker goes first, so that token holders
      // (which count a marked job as finished) see the retry as live.
      await this.#connector.remove(jobFile(job.directory, 'failed'));
      return false;
    });
    if (reattached) return;

    const choice = this.launcherFor(job);
    if ('failure' in choice) {
      await this.#writeJobFiles(job);
      await writeFailedMarker(this.#connector, job.directory, choice.failure);
      return this.#finish(job, 'failed', choice.failure);
    }
    this.#setState(job, 'ready');
    readyRequirements.set(job, choice.requirements);
    this.#enqueue(choice.launcher, job);
    this.#schedulePump();
  }

  /** Returns the first dependency that did not succeed, if any. */
  async #waitForDependencies(job: Job): Promise<JobReference | undefined> {
    for (const dependency of job.dependencies) {
      const own = this.#jobs.get(dependency.hash);
      if (own) {
        await own.wait();
        if (own.state !== 'done') return dependency;
      } else if (!(await this.#io(() => this.#connector.exists(jobFile(dependency.directory, 'done'))))) {
        // A job from elsewhere (e.g. loaded from another experiment) that is not done.
        return dependency;
      }
    }
    return undefined;
  }

  /** Adopts the job if some launcher still runs it (this process's earlier life, or another process). */
  async #reattach(job: Job): Promise<boolean> {
    const handle = await readProcessFile(this.#connector, job.directory);
    if (!handle) return false;
    const markers = await readMarkers(this.#connector, job.directory);
    if (markers.state === 'done') {
      this.#finish(job, 'done');
      return true;
    }
    if (markers.state === 'failed') return false;
    const launcher = this.#launcherForHandle(handle);
    if (!launcher) {
      if (handle.host === this.#host && handle.kind === 'local') return false;
      // A launcher this process does not know: follow the markers only.
      this.#logger.warn(`job ${job.shortName} runs on launcher "${handle.launcher}" which this workspace does not declare; following its markers`);
      this.#fly(job, undefined, handle, 'running');
      return true;
    }
    const status = await launcher.status([handle]).then(
      ([answer]) => answer ?? { state: 'unknown' as const },
      () => ({ state: 'unknown' as const }),
    );
    if (status.state === 'finished') {
      const after = await readMarkers(this.#connector, job.directory);
      if (after.state === 'done') {
        this.#finish(job, 'done');
        return true;
      }
      return false;
    }
    if (status.state === 'unknown') {
      // Still running somewhere this process cannot see (another host), or the
      // launcher cannot tell right now: follow the markers, never launch twice.
      this.#logger.warn(`job ${job.shortName} has a process this host cannot check (${handle.kind} on ${handle.host}); following its markers`);
      this.#fly(job, launcher, handle, 'running');
      return true;
    }
    this.#logger.debug(`re-attached ${job.shortName} (${handle.kind} ${handle.pid ?? handle.clusterId})`);
    this.#fly(job, launcher, handle, status.state);
    return true;
  }

  #launcherForHandle(handle: LaunchHandle): Launcher | undefined {
    const byName = this.#options.workspace.launchers.get(handle.launcher);
    if (byName && byName.kind === handle.kind) return byName;
    for (const launcher of this.#options.workspace.launchers.values()) if (launcher.kind === handle.kind) return launcher;
    return undefined;
  }

  async #dryRun(job: Job): Promise<void> {
    const choice = this.launcherFor(job);
    const launcher = 'launcher' in choice ? choice.launcher.name : `none (${choice.failure.message})`;
    const markers = await readMarkers(this.#connector, job.directory);
    let state: DryRunRecord['state'] = markers.state === 'none' ? 'would run' : markers.state;
    if (state === 'would run') {
      const handle = await readProcessFile(this.#connector, job.directory);
      const owner = handle && this.#launcherForHandle(handle);
      if (handle && owner) {
        const [status] = await owner.status([handle]);
        if (status?.state === 'running' || status?.state === 'queued') state = 'running';
      }
    }
    this.#options.events.onDryRun({
      taskId: job.taskId,
      hash: job.hash,
      directory: job.directory,
      state,
      launcher,
      dependencies: job.dependencies.map((dependency) => dependency.directory),
    });
    this.#finish(job, state === 'done' ? 'done' : state === 'failed' ? 'failed' : 'ready', markers.state === 'failed' ? markers.failure : undefined);
  }

  async #generate(job: Job): Promise<void> {
    const outcome = await this.prepare(job);
    this.#finish(job, outcome === 'prepared' ? 'ready' : outcome);
  }

  async #runningElsewhere(job: Job): Promise<boolean> {
    const handle = await readProcessFile(this.#connector, job.directory);
    const launcher = handle && this.#launcherForHandle(handle);
    if (!handle || !launcher) return false;
    const [status] = await launcher.status([handle]);
    return status?.state === 'running' || status?.state === 'queued';
  }

  // -------------------------------------------------------------------------
  // Launching: bounded per launcher, tokens first, one batch per launcher.

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
    const launchers = new Set([...this.#ready.keys(), ...this.#prepared.keys()]);
    for (const launcher of launchers) {
      this.#prefetch(launcher);
      this.#start(launcher);
    }
  }

  /**
   * Claims ready jobs and writes their files ahead of a free slot, so that a slot
   * that frees up only waits for the launcher itself. The claim is held until the
   * job is handed over: another process that wants the job waits, then re-attaches.
   */
  #prefetch(launcher: Launcher): void {
    const ready = this.#ready.get(launcher);
    if (!ready?.length) return;
    const preparing = this.#preparing.get(launcher) ?? 0;
    const waiting = preparing + (this.#prepared.get(launcher)?.length ?? 0);
    const window = launcher.maxConcurrent === undefined ? Infinity : Math.max(2 * launcher.maxConcurrent, MIN_PREFETCH);
    let room = Math.min(MAX_PREPARING - preparing, window - waiting);
    while (room-- > 0 && ready.length > 0) this.#track(this.#prepare(launcher, ready.shift()!));
  }

  async #prepare(launcher: Launcher, job: Job): Promise<void> {
    this.#count(this.#preparing, launcher, +1);
    let release: ReleaseLock | undefined;
    try {
      release = await this.#claim(job);
      // Look again under the claim: another process may have run or launched it meanwhile.
      if (await this.#connector.exists(jobFile(job.directory, 'done'))) {
        this.#finish(job, 'done');
      } else if (!(await this.#reattach(job))) {
        await this.#connector.remove(jobFile(job.directory, 'failed'));
        await this.#writeJobFiles(job);
        const prepared = this.#prepared.get(launcher) ?? [];
        prepared.push({ job, release });
        this.#prepared.set(launcher, prepared);
        release = undefined; // handed over with the job
      }
    } catch (error) {
      this.#finish(job, 'failed', { code: null, reason: 'rejected', message: `could not prepare the job: ${errorMessage(error)}` });
    } finally {
      await release?.();
      this.#count(this.#preparing, launcher, -1);
      this.#schedulePump();
      this.#checkIdle();
    }
  }

  /** Hands prepared jobs to the launcher, within its bound, tokens first, in one batch. */
  #start(launcher: Launcher): void {
    const prepared = this.#prepared.get(launcher);
    if (!prepared?.length) {
      this.#gatherWindows.delete(launcher);
      return;
    }
    if (this.#gathering(launcher)) return;
    const inUse = (this.#flights.get(launcher)?.size ?? 0) + (this.#starting.get(launcher) ?? 0);
    let room = launcher.maxConcurrent === undefined ? Infinity : launcher.maxConcurrent - inUse;
    const batch: PreparedJob[] = [];
    while (room > 0 && prepared.length > 0) {
      const entry = prepared.shift()!;
      room--;
      if (Object.keys(entry.job.tokens).length > 0) this.#track(this.#startWithTokens(launcher, entry));
      else batch.push(entry);
    }
    if (batch.length > 0) this.#track(this.#submit(launcher, batch));
  }

  /**
   * True while a launcher that batches is still gathering jobs: until no job
   * arrived for submitDelayMs, or none is on its way, or 5 delays have passed
   * since the first. Pumps again when the window closes.
   */
  #gathering(launcher: Launcher): boolean {
    const delay = launcher.submitDelayMs ?? 0;
    if (delay <= 0) return false;
    const now = Date.now();
    const window = this.#gatherWindows.get(launcher) ?? { first: now, last: now, size: 0 };
    const size = this.#prepared.get(launcher)?.length ?? 0;
    if (size !== window.size) Object.assign(window, { last: now, size });
    this.#gatherWindows.set(launcher, window);
    const moreComing = (this.#ready.get(launcher)?.length ?? 0) > 0 || (this.#preparing.get(launcher) ?? 0) > 0;
    const closesAt = Math.min(window.last + delay, window.first + GATHER_MAX_DELAYS * delay);
    if (!moreComing || now >= closesAt) {
      this.#gatherWindows.delete(launcher);
      return false;
    }
    if (!this.#gatherTimers.has(launcher)) {
      const timer = setTimeout(() => {
        this.#gatherTimers.delete(launcher);
        this.#schedulePump();
      }, closesAt - now);
      this.#gatherTimers.set(launcher, timer);
    }
    return true;
  }

  async #startWithTokens(launcher: Launcher, entry: PreparedJob): Promise<void> {
    this.#count(this.#starting, launcher, +1);
    let acquired = false;
    try {
      acquired = await this.#acquireTokens(entry.job);
    } catch (error) {
      await entry.release();
      this.#finish(entry.job, 'failed', { code: null, reason: 'rejected', message: `could not take its tokens: ${errorMessage(error)}` });
      return;
    } finally {
      this.#count(this.#starting, launcher, -1);
      this.#checkIdle();
    }
    if (!acquired) {
      // Wait without a slot or a claim: jobs that need no token go on.
      await entry.release();
      this.#tokenBlocked.add(entry.job);
      this.#armTokenRetry();
      this.#schedulePump();
      return;
    }
    await this.#submit(launcher, [entry]);
  }

  async #acquireTokens(job: Job): Promise<boolean> {
    const needs = Object.entries(job.tokens);
    const held: { token: Token; holder: TokenHolder }[] = [];
    const holder: TokenHolder = { hash: job.hash, directory: job.directory, pid: process.pid, host: this.#host };
    for (const [name, count] of needs) {
      const token = this.#token(name);
      if (await token.tryAcquire(holder, count)) {
        held.push({ token, holder });
        continue;
      }
      for (const entry of held) await entry.token.release(entry.holder);
      return false;
    }
    this.#heldTokens.set(job, held);
    return true;
  }

  #armTokenRetry(): void {
    if (this.#tokenTimer || this.#tokenBlocked.size === 0) return;
    this.#tokenTimer = setTimeout(() => {
      this.#tokenTimer = undefined;
      this.#retryTokenBlocked();
    }, TOKEN_RETRY_MS);
  }

  #retryTokenBlocked(): void {
    if (this.#stopped) return;
    const jobs = [...this.#tokenBlocked];
    this.#tokenBlocked.clear();
    for (const job of jobs) {
      const choice = this.launcherFor(job);
      if (!('launcher' in choice)) continue;
      this.#enqueue(choice.launcher, job, 'front');
    }
    this.#schedulePump();
  }

  #enqueue(launcher: Launcher, job: Job, end: 'front' | 'back' = 'back'): void {
    const queue = this.#ready.get(launcher) ?? [];
    if (end === 'front') queue.unshift(job);
    else queue.push(job);
    this.#ready.set(launcher, queue);
  }

  #token(name: string): Token {
    const token = this.#options.tokens().get(name) ?? this.#options.workspace.tokens.get(name);
    if (!token) throw new Error(`unknown token "${name}"`); // checked at submit
    return token;
  }

  async #submit(launcher: Launcher, entries: PreparedJob[]): Promise<void> {
    this.#count(this.#starting, launcher, entries.length);
    let counted = true;
    try {
      const requests: LaunchRequest[] = entries.map(({ job }) => ({
        taskId: job.taskId,
        hash: job.hash,
        directory: this.#connector.resolve(job.directory),
        scriptPath: this.#connector.resolve(jobFile(job.directory, 'script')),
        name: `${job.taskId}-${job.hash.slice(0, 8)}`,
        requirements: readyRequirements.get(job) ?? {},
        ...(job.task.resumable ? { resumable: { signalAheadSeconds: job.task.resumable.signalAheadSeconds } } : {}),
      }));
      const outcomes = await launcher.submit(requests);
      const started: { job: Job; handle: LaunchHandle }[] = [];
      const failures: Promise<void>[] = [];
      entries.forEach(({ job }, i) => {
        const outcome = outcomes[i];
        if (outcome && 'handle' in outcome) {
          this.#fly(job, launcher, outcome.handle, outcome.state ?? 'queued');
          started.push({ job, handle: outcome.handle });
          return;
        }
        const failure = outcome?.failure ?? { code: null, reason: 'rejected' as const, message: 'the launcher returned no outcome' };
        failures.push(writeFailedMarker(this.#connector, job.directory, failure).then(() => this.#finish(job, 'failed', failure)));
      });
      // Those that flew now count as flights, those that failed not at all.
      this.#count(this.#starting, launcher, -entries.length);
      counted = false;
      // Written before the claims are released: a process waiting for the claim then re-attaches.
      await Promise.all([
        ...started.map(async ({ job, handle }) => {
          await writeProcessFile(this.#connector, handle);
          await this.#rebindTokens(job, handle);
        }),
        ...failures,
      ]);
      // A short job may have ended, and its launcher said so, before it was registered.
      if (launcher.onChange) this.#pollSoon(launcher);
    } catch (error) {
      for (const { job } of entries) {
        if (job.isFinished || this.#isFlying(job)) continue;
        this.#finish(job, 'failed', { code: null, reason: 'rejected', message: `could not launch on "${launcher.name}": ${errorMessage(error)}` });
      }
    } finally {
      if (counted) this.#count(this.#starting, launcher, -entries.length);
      await Promise.all(entries.map((entry) => entry.release()));
      this.#schedulePump();
      this.#checkIdle();
    }
  }

  #count(counts: Map<Launcher, number>, launcher: Launcher, delta: number): void {
    counts.set(launcher, (counts.get(launcher) ?? 0) + delta);
  }

  /** Once the job has its own process, its token shares follow that process rather than this one. */
  async #rebindTokens(job: Job, handle: LaunchHandle): Promise<void> {
    const held = this.#heldTokens.get(job);
    if (!held || handle.pid === undefined || handle.host !== this.#host) return;
    const needs = job.tokens;
    for (const entry of held) {
      entry.holder = { ...entry.holder, pid: handle.pid };
      await entry.token.tryAcquire(entry.holder, needs[entry.token.name] ?? 0);
    }
  }

  async #claim(job: Job): Promise<ReleaseLock> {
    await this.#connector.mkdir(job.directory);
    return this.#connector.lock(jobFile(job.directory, 'claimLock'), { staleMs: CLAIM_STALE_MS, waitMs: CLAIM_WAIT_MS });
  }

  async #writeJobFiles(job: Job): Promise<void> {
    await writeJobFiles({ connector: this.#connector, job, workspaceEnv: this.#options.workspace.env, experiment: this.#options.experiment });
  }

  // -------------------------------------------------------------------------
  // Following launched jobs: one status query per launcher per poll.

  #fly(job: Job, launcher: Launcher | undefined, handle: LaunchHandle, state: 'queued' | 'running'): void {
    job.handle = handle;
    let flights = this.#flights.get(launcher);
    if (!flights) this.#flights.set(launcher, (flights = new Map()));
    flights.set(job.hash, { job, launcher, handle, cancelRequested: false });
    this.#pollBackoff.delete(launcher);
    this.#setState(job, state);
    this.#armPoll(launcher);
  }

  #isFlying(job: Job): boolean {
    for (const flights of this.#flights.values()) if (flights.has(job.hash)) return true;
    return false;
  }

  #armPoll(launcher: Launcher | undefined): void {
    if (this.#pollTimers.has(launcher)) return;
    const base = launcher?.pollIntervalMs ?? 1000;
    const interval = Math.min(base * (this.#pollBackoff.get(launcher) ?? 1), Math.max(base, MAX_POLL_INTERVAL_MS));
    const timer = setTimeout(() => {
      this.#pollTimers.delete(launcher);
      this.#pollSoon(launcher);
    }, interval);
    this.#pollTimers.set(launcher, timer);
  }

  #pollSoon(launcher: Launcher | undefined): void {
    if (this.#polling.has(launcher)) {
      this.#repoll.add(launcher);
      return;
    }
    const run = this.#poll(launcher).finally(() => {
      this.#polling.delete(launcher);
      if (this.#repoll.delete(launcher)) this.#pollSoon(launcher);
      else if ((this.#flights.get(launcher)?.size ?? 0) > 0) this.#armPoll(launcher);
    });
    this.#polling.set(launcher, run);
    this.#track(run);
  }

  async #poll(launcher: Launcher | undefined): Promise<void> {
    const flights = [...(this.#flights.get(launcher)?.values() ?? [])];
    if (flights.length === 0) return;
    let statuses: Awaited<ReturnType<Launcher['status']>>;
    try {
      statuses = launcher
        ? await launcher.status(flights.map((flight) => flight.handle))
        : flights.map(() => ({ state: 'unknown' as const }));
    } catch (error) {
      this.#logger.warn(`status of ${flights.length} job(s) on "${launcher?.name}" failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    let changed = false;
    await Promise.all(
      flights.map(async (flight, i) => {
        const status = statuses[i] ?? { state: 'unknown' as const };
        const { job } = flight;
        if (status.state === 'queued' || status.state === 'running') {
          flight.missingMarkerSince = undefined;
          const detailChanged = job.detail !== status.detail;
          if (job.state !== status.state || detailChanged) changed = true;
          job.detail = status.detail;
          if (job.state !== status.state) this.#setState(job, status.state);
          // A new pending reason on a job still queued is news too.
          else if (detailChanged) this.#options.events.onState(job, job.state);
          return;
        }
        changed = true;
        const markers = await readMarkers(this.#connector, job.directory);
        if (markers.state === 'done') return this.#land(flight, 'done');
        if (markers.state === 'failed') {
          let failure = markers.failure;
          // A job Baton cancelled failed because of that, whatever killed it first
          // (job.sh may see its command die of the signal before its own trap runs).
          if (flight.cancelRequested) failure = { ...failure, reason: 'cancelled' };
          // The launcher knows better why a job it stopped ended (timeout, oom...).
          else if (status.failure && markers.failure.reason === 'cancelled') failure = status.failure;
          return this.#land(flight, 'failed', failure);
        }
        if (status.state === 'unknown') return;
        flight.missingMarkerSince ??= Date.now();
        if (!status.failure && !flight.cancelRequested && Date.now() - flight.missingMarkerSince < MISSING_MARKER_GRACE_MS) return;
        const failure: FailureInfo = status.failure ??
          (flight.cancelRequested
            ? { code: null, reason: 'cancelled', message: 'cancelled by Baton' }
            : { code: null, reason: 'lost', message: 'the job ended without writing a done or failed marker (killed?)' });
        await writeFailedMarker(this.#connector, job.directory, failure);
        this.#land(flight, 'failed', failure);
      }),
    );
    // Poll less often while nothing changes; at once again when something does.
    if (changed) this.#pollBackoff.delete(launcher);
    else this.#pollBackoff.set(launcher, Math.min((this.#pollBackoff.get(launcher) ?? 1) * POLL_BACKOFF_FACTOR, MAX_POLL_BACKOFF));
  }

  #land(flight: Flight, state: 'done' | 'failed', failure?: FailureInfo): void {
    this.#flights.get(flight.launcher)?.delete(flight.job.hash);
    if (state === 'failed' && failure?.reason === 'timeout' && this.#resubmit(flight)) return;
    this.#finish(flight.job, state, failure);
  }

  /** A resumable job that hit its time limit goes back to the queue, up to its retry count. */
  #resubmit(flight: Flight): boolean {
    const { job, launcher } = flight;
    const resumable = job.task.resumable;
    const attempts = this.#resubmissions.get(job) ?? 0;
    if (!resumable || !launcher || this.#stopped || flight.cancelRequested || attempts >= resumable.retries) return false;
    this.#resubmissions.set(job, attempts + 1);
    this.#logger.info(`job ${job.shortName} reached its time limit; resubmitting it (${attempts + 1}/${resumable.retries})`);
    const held = this.#heldTokens.get(job);
    this.#heldTokens.delete(job);
    this.#setState(job, 'ready');
    this.#track(
      Promise.all((held ?? []).map((entry) => entry.token.release(entry.holder))).then(() => {
        this.#enqueue(launcher, job);
        this.#schedulePump();
      }),
    );
    return true;
  }

  // -------------------------------------------------------------------------
  // Settling

  #finish(job: Job, state: JobState, failure?: FailureInfo): void {
    if (job.isFinished && (state === 'done' || state === 'failed')) return;
    job.failure = failure;
    this.#setState(job, state);
    readyRequirements.delete(job);
    const held = this.#heldTokens.get(job);
    if (held) {
      this.#heldTokens.delete(job);
      this.#track(Promise.all(held.map((entry) => entry.token.release(entry.holder))).then(() => this.#retryTokenBlocked()));
    }
    job.markSettled();
    this.#unsettled--;
    this.#schedulePump();
    this.#checkIdle();
  }

  /** A job left unstarted because the experiment stopped. */
  #abandon(job: Job): void {
    job.markSettled();
    this.#unsettled--;
    this.#checkIdle();
  }

  #setState(job: Job, state: JobState): void {
    const previous = job.state;
    if (previous === state) return;
    job.state = state;
    this.#options.events.onState(job, previous);
  }

  #isIdle(): boolean {
    if (this.#unsettled === 0) return true;
    if (!this.#stopped) return false;
    let busy = 0;
    for (const count of [...this.#preparing.values(), ...this.#starting.values()]) busy += count;
    // After a kill, also until the cancelled jobs have ended (their markers written).
    for (const flights of this.#flights.values()) for (const flight of flights.values()) if (flight.cancelRequested) busy++;
    return busy === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #track<T>(promise: Promise<T>): void {
    this.#pending.add(promise);
    promise
      .catch((error: unknown) => this.#logger.error(`scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`))
      .finally(() => this.#pending.delete(promise));
  }
}

/** Requirements alternative chosen for each ready job. */
const readyRequirements = new WeakMap<Job, Requirements>();


function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
